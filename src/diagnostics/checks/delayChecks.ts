import { describeDistribution } from '../logAnalysis/distribution.js';
import { check, noLog, type Check, type DiagnoseInput, type Section } from '../report/report.js';

// "Response delays" (docs/operations.md): how long new streams wait for the ones
// they supersede, whether those waits hit the cancel timeout, and whose time a
// slow first token is (Jarvis's supersede wait, or the upstream's).

const FIX_TIMEOUT =
  'A timeout means the superseded stream had not finished within JARVIS_CANCEL_TIMEOUT_MS, so the new stream waited that long and ' +
  'then started anyway (the documented path, not a deadlock). Usually its upstream ignored the abort: Jarvis half-closes the upstream ' +
  'connection and waits for Ollama to close its side, which a proxy in between may swallow (see upstream_close=forced on stream_end). ' +
  'The options: leave it (waiting is safer than overlapping), raise JARVIS_CANCEL_TIMEOUT_MS to 3000-5000, or make the ' +
  'upstream honour the abort (point OLLAMA_HOST straight at Ollama).';
const FIX_FORCED =
  'The upstream kept the connection open after Jarvis aborted the generation, so Jarvis cut it. Point OLLAMA_HOST straight at Ollama ' +
  '(not through a proxy that buffers or ignores a half-close) and check the Ollama version; with a remote OpenAI-compatible server, ' +
  'this is that server\'s behaviour.';
const FIX_JARVIS_WAIT =
  'The first tokens are slow because new streams wait for the streams they supersede: see the timeout check above; the supersede ' +
  'wait is bounded by JARVIS_CANCEL_TIMEOUT_MS (src/streams/registry.ts).';

export function delaySection(input: DiagnoseInput): Section {
  return { id: 'delays', title: 'Response delays (server answers, but slowly)', checks: [supersedeWaits(input), upstreamAborts(input), firstTokens(input), upstreamErrors(input)] };
}

function supersedeWaits({ facts }: DiagnoseInput): Check {
  const title = 'Superseded streams finish within the cancel timeout';
  if (!facts || facts.lines === 0) return noLog('supersede_wait', title);
  const waits = facts.waits.clean + facts.waits.timeout + facts.waits.abandoned;
  const dist = describeDistribution(facts.waitMs.summary());
  if (waits === 0) return check('supersede_wait', title, 'ok', 'no supersede waits in the log');
  if (facts.timeouts.count === 0) return check('supersede_wait', title, 'ok', `supersede waits (waited_ms): ${dist}; none hit the timeout`);
  const all = facts.waits.clean === 0 ? `all ${waits} supersede waits hit the cancel timeout, none finished cleanly: the superseded streams are not stopping` : `${facts.timeouts.count} superseded streams hit the cancel timeout (${facts.waits.clean} waits finished cleanly)`;
  return check('supersede_wait', title, 'problem', `${all}; waited_ms: ${dist}`, { evidence: facts.timeouts.items, count: facts.timeouts.count, fix: FIX_TIMEOUT });
}

function upstreamAborts({ facts }: DiagnoseInput): Check {
  const title = 'Aborted upstream requests close promptly';
  if (!facts || facts.lines === 0) return noLog('upstream_abort', title);
  const latency = describeDistribution(facts.cancelToEndMs.summary());
  if (facts.forcedUpstreamClose.count === 0) return check('upstream_abort', title, 'ok', `cancel → stream_end: ${latency}; no upstream had to be cut off`);
  return check('upstream_abort', title, 'problem', `${facts.forcedUpstreamClose.count} upstream connections ignored the abort and were cut off (upstream_close=forced); cancel → stream_end: ${latency}`, {
    evidence: facts.forcedUpstreamClose.items,
    count: facts.forcedUpstreamClose.count,
    fix: FIX_FORCED,
  });
}

function firstTokens({ facts }: DiagnoseInput): Check {
  const title = 'First tokens arrive promptly (and whose delay it is)';
  if (!facts || facts.lines === 0) return noLog('first_token', title);
  const ttft = facts.ttftMs.summary();
  if (!ttft) return check('first_token', title, 'ok', 'no stream produced a token in this log');
  const split = `time to first token: ${describeDistribution(ttft)}; of it upstream (model): ${describeDistribution(facts.upstreamTtftMs.summary())}`;
  const slow = facts.slowFirstTokens.count;
  if (slow === 0) return check('first_token', title, 'ok', split);
  const share = facts.slowWaitShareMs.total > 0 ? facts.slowWaitShareMs.wait / facts.slowWaitShareMs.total : 0;
  const whose = `${slow} slow first tokens: ${Math.round(share * 100)} % of their time was Jarvis waiting for superseded streams, ${Math.round((1 - share) * 100)} % the upstream`;
  if (share >= 0.5) return check('first_token', title, 'problem', `${whose}; ${split}`, { evidence: facts.slowFirstTokens.items, count: slow, fix: FIX_JARVIS_WAIT });
  // The upstream's time (model load, prompt evaluation) is not a Jarvis fault: shown, not failed.
  return check('first_token', title, 'ok', `${whose} (model load or prompt evaluation: \`ollama ps\`); ${split}`, { evidence: facts.slowFirstTokens.items, count: slow });
}

function upstreamErrors({ facts }: DiagnoseInput): Check {
  const title = 'Upstream answers without errors';
  if (!facts || facts.lines === 0) return noLog('upstream_errors', title);
  const total = [...facts.upstreamErrors.values()].reduce((a, b) => a + b, 0) + facts.internalErrors.count;
  if (total === 0) return check('upstream_errors', title, 'ok', 'no upstream_error or stream_internal_error lines');
  const codes = [...facts.upstreamErrors.entries()].map(([code, n]) => `${code}×${n}`);
  if (facts.internalErrors.count) codes.push(`stream_internal_error×${facts.internalErrors.count}`);
  return check('upstream_errors', title, 'problem', codes.join(', '), {
    evidence: [...facts.internalErrors.items, ...facts.upstreamErrorSamples.items].slice(0, 5),
    count: total,
    fix: errorFix([...facts.upstreamErrors.keys()], facts.internalErrors.count > 0),
  });
}

function errorFix(codes: string[], internal: boolean): string {
  const fixes: string[] = [];
  if (codes.includes('upstream_unavailable')) fixes.push('upstream_unavailable: Ollama is not reachable at OLLAMA_HOST: start it (`ollama serve`) or fix OLLAMA_HOST.');
  if (codes.includes('timeout')) fixes.push(`timeout: no first token within JARVIS_FIRST_TOKEN_TIMEOUT_MS: the model is loading or Ollama is stuck (\`ollama ps\`); raise the timeout for big models.`);
  if (codes.includes('model_not_found')) fixes.push('model_not_found: `ollama pull <model>` or set JARVIS_MODEL to a model `ollama list` shows.');
  if (codes.some((c) => !['upstream_unavailable', 'timeout', 'model_not_found'].includes(c))) fixes.push('Other codes: the error= field has the upstream\'s message; see Ollama\'s own log (`journalctl -u ollama`).');
  if (internal) fixes.push('stream_internal_error is a Jarvis bug: the line carries the stack; report it with the trace\'s lines.');
  return fixes.join(' ');
}

