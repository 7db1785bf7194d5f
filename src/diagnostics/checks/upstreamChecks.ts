import { formatMs } from '../logAnalysis/distribution.js';
import { withRefs, type Evidence } from '../logAnalysis/samples.js';
import type { UpstreamTally } from '../logAnalysis/upstreamFacts.js';
import { check, type Check, type DiagnoseInput, type Section } from '../report/report.js';

// Several model servers (docs/upstreams.md): one check per server the log names, with its
// streams, errors by code, the prompts that failed over from it, its periods down and its
// time to first token. A log whose lines name no server (one written before there were
// several) has no such section: the other sections judge it as before.

const FIX_DOWN =
  'The server did not answer (a connect error or a 5xx): Jarvis marked it down, asked it again with back-off (1 s doubling to 30 s) and sent new prompts to the other servers of their model meanwhile; ' +
  'a prompt it failed before its first token was tried again on another (upstream_failover, at most JARVIS_UPSTREAM_TRIES), one it failed after that ended with a typed error. ' +
  'Look at that server itself (its own log, `journalctl -u ollama`, its GPU memory), and at its address in JARVIS_UPSTREAMS (/health lists each server with its last error). docs/upstreams.md "Health and failover".';
const FIX_ERRORS =
  'Its upstream_error lines say what failed (error=, and the codes\' fixes under "Upstream answers without errors" above); a server that answers some prompts and fails others is often out of memory for one model, or lacks it (model_not_found: its `models` list in JARVIS_UPSTREAMS).';

export function upstreamSection({ upstreams }: DiagnoseInput): Section | undefined {
  if (!upstreams || upstreams.upstreams.size === 0) return undefined;
  const checks = [...upstreams.upstreams.values()].sort((a, b) => a.name.localeCompare(b.name)).map(upstreamCheck);
  return { id: 'upstreams', title: 'Model servers (upstreams)', checks };
}

function upstreamCheck(t: UpstreamTally): Check {
  const title = `Model server ${t.name}`;
  const parts = [`${t.streams} stream${t.streams === 1 ? '' : 's'}`];
  const ttft = t.ttftMs.count > 0 ? `TTFT p50=${formatMs(t.ttftMs.quantile(0.5))} p95=${formatMs(t.ttftMs.quantile(0.95))}` : '';
  if (ttft) parts.push(ttft);
  const errors = total(t.errors);
  if (errors > 0) parts.push(`errors: ${byCode(t.errors)}`);
  const failovers = total(t.failovers);
  if (failovers > 0) parts.push(`${failovers} prompt${failovers === 1 ? '' : 's'} failed over from it (${byCode(t.failovers)})`);
  if (t.downs > 0) {
    const closed = t.downs - (t.stillDown ? 1 : 0);
    const lengths = closed > 0 ? ` (${formatMs(t.downMs)} in all, longest ${formatMs(t.longestDownMs)})` : '';
    parts.push(`down ${t.downs}×${lengths}${t.stillDown ? `, still down at the end of the log (since ${t.stillDown.line.slice(0, t.stillDown.line.indexOf(' '))})` : ''}`);
  }
  if (errors === 0 && t.downs === 0) return check(`upstream_${t.name}`, title, 'ok', `${parts.join('; ')}; never down, no errors`);
  const evidence: Evidence[] = [
    ...(t.stillDown ? [withRefs({ text: `${t.name} went down and had not come back when the log ends`, lines: [t.stillDown.line] }, t.stillDown.at)] : []),
    ...t.downSamples.items,
    ...t.failoverSamples.items,
    ...t.errorSamples.items,
  ].slice(0, 5);
  return check(`upstream_${t.name}`, title, 'problem', parts.join('; '), {
    evidence,
    count: t.downs + failovers + errors,
    fix: t.downs > 0 || failovers > 0 ? FIX_DOWN : FIX_ERRORS,
  });
}

function total(map: Map<string, number>): number {
  let n = 0;
  for (const v of map.values()) n += v;
  return n;
}

function byCode(map: Map<string, number>): string {
  return [...map.entries()].map(([code, n]) => `${code}×${n}`).join(', ');
}
