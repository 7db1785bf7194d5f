import { describeDistribution, formatMs } from '../logAnalysis/distribution.js';
import { check, needsUrl, noLog, type Check, type DiagnoseInput, type Section } from '../report/report.js';
import { withRefs, type Evidence } from '../logAnalysis/samples.js';

// "System deadlock" (docs/operations.md): a stream that never ends, or two streams of one
// session generating at once; each fix names the code that must hold (src/streams/registry.ts, runStream.ts).

const FIX_REGISTER =
  'StreamRegistry.register() (src/streams/registry.ts) must cancel the session\'s live streams and wait for their `finished` ' +
  '(bounded by JARVIS_CANCEL_TIMEOUT_MS), logging prev_stream_finished_cleanly or prev_stream_timeout_on_cancel, and runStream ' +
  '(src/streams/runStream.ts) must `await registry.register(stream)` before its first upstream request. If the source does, the ' +
  'running server is an old build: `npm run build` and restart it.';
const FIX_OVERLAP =
  'Every stream must pass through registry.register() before generating (src/streams/runStream.ts), and register() may only ' +
  'report a superseded stream as finished once its `finished` promise resolved, which runStream\'s finally resolves after logging ' +
  'stream_end (src/streams/registry.ts, src/streams/chatStream.ts markFinished).';
const FIX_ORPHAN =
  'runStream\'s finally (src/streams/runStream.ts) logs stream_end whatever happens, so a stream without one is still running, ' +
  'stuck in an await that ignores its abort signal (before the finally), or died with the process (kill -9, crash: see "lost at ' +
  'restart"). `grep "trace=<id>" logs/system.log` shows its story; check its error lines; `--url` tells running streams from lost ones.';
const FIX_POP =
  'runStream\'s finally (src/streams/runStream.ts) must call registry.pop(stream) and log stream_registry_pop_success; ' +
  'stream_registry_pop_failed means the stream was not registered or was popped twice (StreamRegistry.pop in src/streams/registry.ts).';
const FIX_CANCEL =
  'ChatStream.cancel() (src/streams/chatStream.ts) aborts the stream\'s signal; the backend loop must stop on it and the upstream ' +
  'connection be released or cut after its grace period (src/backends/upstream/upstreamHttp.ts). A cancelled stream that never ends is stuck ' +
  'in an await that ignores the signal.';

export function deadlockSection(input: DiagnoseInput): Section {
  return {
    id: 'deadlock',
    title: 'System deadlock (server hung)',
    checks: [responds(input), registerWaits(input), noOverlap(input), everyStartEnds(input), popsLogged(input), cancelsEnd(input)],
  };
}

function responds({ live }: DiagnoseInput): Check {
  const title = 'Server responds within 2 s';
  if (!live) return needsUrl('server_responds', title);
  const h = live.health;
  if (h.ok || h.status > 0) {
    return check('server_responds', title, h.ms <= 2000 ? 'ok' : 'problem', `GET /health answered HTTP ${h.status} in ${formatMs(h.ms)}${activeText(h.body)}`, {
      fix: 'The event loop is blocked: restart the server, then `jarvis diagnose --session <id>` on the session that hung.',
    });
  }
  if (h.error?.startsWith('no answer')) {
    return check('server_responds', title, 'problem', `GET /health: ${h.error}: the server is hung`, {
      fix: 'The server accepts connections but does not answer: its event loop is blocked. Restart it (Ctrl-C twice, or kill <pid>), then run `jarvis diagnose` on its log and `jarvis matrix` to reproduce.',
    });
  }
  return check('server_responds', title, 'skipped', `not reachable (${h.error ?? 'no answer'}): see "No logs at all"`);
}

function activeText(body: Record<string, unknown> | undefined): string {
  return body && typeof body.active_streams === 'number' ? ` (${body.active_streams} active streams, backend ${String(body.backend)})` : '';
}

function registerWaits({ facts }: DiagnoseInput): Check {
  const title = 'register() waits for the stream it supersedes';
  if (!facts || facts.lines === 0) return noLog('register_waits', title);
  const w = facts.waits;
  const logged = w.clean + w.timeout + w.abandoned;
  if (facts.supersedes === 0) {
    return check('register_waits', title, 'ok', `no stream was superseded (${facts.streamsStarted} streams started, none while another stream of its session was live): nothing to wait for`);
  }
  if (facts.unwaited.count === 0) {
    return check('register_waits', title, 'ok', `${facts.supersedes} superseding streams, every one waited: ${w.clean} clean, ${w.timeout} at the timeout, ${w.abandoned} abandoned (cancelled while waiting)`);
  }
  return check('register_waits', title, 'problem', `${facts.unwaited.count} of ${facts.supersedes} superseding streams started without waiting (${logged} waits logged)`, {
    evidence: facts.unwaited.items,
    count: facts.unwaited.count,
    fix: FIX_REGISTER,
  });
}

function noOverlap({ facts }: DiagnoseInput): Check {
  const title = 'No two streams of one session generate at once';
  if (!facts || facts.lines === 0) return noLog('no_overlap', title);
  if (facts.overlaps.count === 0) {
    const timeouts = facts.timeoutOverlaps > 0 ? `; ${facts.timeoutOverlaps} ran on after a cancel timeout (the documented path: see Response delays)` : '';
    return check('no_overlap', title, 'ok', `${facts.streamsStarted} streams: ${facts.startsOnIdleSession} started on an idle session (including sessions used one prompt after another), ${facts.supersedes} superseded a live one and waited${timeouts}`);
  }
  return check('no_overlap', title, 'problem', `${facts.overlaps.count} overlapping stream pairs`, { evidence: facts.overlaps.items, count: facts.overlaps.count, fix: FIX_OVERLAP });
}

function everyStartEnds({ facts, live, nowMs }: DiagnoseInput): Check {
  const title = 'Every stream_start has one stream_end (cleanup ran)';
  if (!facts || facts.lines === 0) return noLog('start_has_end', title);
  const evidence: Evidence[] = [];
  let problems = 0;
  let active = 0;
  let ended = 0;
  const lastMs = facts.lastTime ? Date.parse(facts.lastTime) : nowMs;
  for (const o of facts.orphans) {
    const state = live?.orphanState.get(o.trace);
    if (state === 'active') active++;
    else if (state === 'ended') ended++;
    else problems++;
    const fate = state === 'active' ? 'still running on the server' : state === 'ended' ? 'ended after the log was read' : state === 'lost' ? 'LOST: not running on the server, no stream_end' : 'no stream_end (running or lost? pass --url)';
    if (state !== 'active' && state !== 'ended' && evidence.length < 5) {
      const e: Evidence = { text: `${o.trace} (session ${o.session}) started ${formatMs(lastMs - o.startMs)} before the log's last line${o.cancelled ? ', was cancelled' : ''}: ${fate}`, trace: o.trace, session: o.session, lines: [o.line, ...(o.lastError ? [o.lastError] : [])] };
      evidence.push(withRefs(e, o.at, ...(o.lastError ? [o.lastErrorAt] : [])));
    }
  }
  problems += facts.orphanCount - facts.orphans.length; // beyond the kept ones: unknown fate
  problems += facts.lostAtRestart.count + facts.duplicateEnds.count;
  evidence.push(...facts.lostAtRestart.items, ...facts.duplicateEnds.items);
  const lost = facts.lostInCluster > 0 ? `, ${facts.lostInCluster} recorded lost by another instance (see "Several instances")` : '';
  const counts = `${facts.streamsStarted} stream_start, ${facts.streamsEnded} stream_end${lost}`;
  if (problems === 0) {
    const running = active + ended > 0 ? `; ${active + ended} still running when the log was read (${active} still active on the server)` : '';
    return check('start_has_end', title, 'ok', `${counts}${running}`);
  }
  const parts = [
    facts.orphanCount - active - ended > 0 ? `${facts.orphanCount - active - ended} without stream_end` : '',
    facts.lostAtRestart.count > 0 ? `${facts.lostAtRestart.count} lost at a server restart` : '',
    facts.duplicateEnds.count > 0 ? `${facts.duplicateEnds.count} with a second stream_end` : '',
  ].filter(Boolean);
  return check('start_has_end', title, 'problem', `${counts}: ${parts.join(', ')}`, { evidence, count: problems, fix: FIX_ORPHAN });
}

function popsLogged({ facts }: DiagnoseInput): Check {
  const title = 'registry.pop() runs for every stream';
  if (!facts || facts.lines === 0) return noLog('registry_pop', title);
  const bad = facts.missingPop.count + facts.popFailed.count + facts.missingCleanup.count;
  if (bad === 0) return check('registry_pop', title, 'ok', `${facts.streamsEnded} ended streams, each logged stream_cleanup_START and stream_registry_pop_success`);
  const parts = [
    facts.missingPop.count ? `${facts.missingPop.count} without a registry pop line` : '',
    facts.popFailed.count ? `${facts.popFailed.count} stream_registry_pop_failed` : '',
    facts.missingCleanup.count ? `${facts.missingCleanup.count} without stream_cleanup_START` : '',
  ].filter(Boolean);
  return check('registry_pop', title, 'problem', parts.join(', '), {
    evidence: [...facts.popFailed.items, ...facts.missingPop.items, ...facts.missingCleanup.items].slice(0, 5),
    count: bad,
    fix: FIX_POP,
  });
}

function cancelsEnd({ facts, live }: DiagnoseInput): Check {
  const title = 'Cancelled streams end';
  if (!facts || facts.lines === 0) return noLog('cancel_ends', title);
  const stuck = facts.cancelledNoEnd.items.filter((e) => !['active', 'ended'].includes(live?.orphanState.get(e.trace ?? '') ?? ''));
  const latency = describeDistribution(facts.cancelToEndMs.summary());
  if (facts.cancelledNoEnd.count === 0 || (live && stuck.length === 0 && facts.cancelledNoEnd.count === facts.cancelledNoEnd.items.length)) {
    return check('cancel_ends', title, 'ok', `every cancelled stream logged stream_end; cancel → stream_end: ${latency}`);
  }
  return check('cancel_ends', title, 'problem', `${facts.cancelledNoEnd.count} cancelled streams never logged stream_end (cancel → end of the others: ${latency})`, {
    evidence: facts.cancelledNoEnd.items,
    count: facts.cancelledNoEnd.count,
    fix: FIX_CANCEL,
  });
}
