import { formatMs } from '../logAnalysis/distribution.js';
import { check, needsUrl, noLog, type Check, type DiagnoseInput, type Section } from '../report/report.js';

// "UI not updating" (docs/operations.md): the UI can only keep streams apart if
// every event names its stream. The log shows the ids; a probe request shows
// what a client actually receives.

const FIX_WIRE =
  'Every event must carry the stream\'s ids (src/server/protocols/jarvis/writers.ts writes them; src/streams/chatStream.ts numbers tokens from 0 ' +
  'and concludes a stream exactly once). The web UI (ui/) must take stream_id from the first event and drop events of any other stream.';

export function uiSection(input: DiagnoseInput): Section {
  return { id: 'ui', title: 'UI not updating (mixed or frozen responses)', checks: [idsInLog(input), probeEvents(input)] };
}

function idsInLog({ facts }: DiagnoseInput): Check {
  const title = 'stream_start lines carry stream_id';
  if (!facts || facts.lines === 0) return noLog('log_stream_ids', title);
  if (facts.startsWithoutStreamId.count === 0) return check('log_stream_ids', title, 'ok', `${facts.streamsStarted} stream_start lines, all with stream_id`);
  return check('log_stream_ids', title, 'problem', `${facts.startsWithoutStreamId.count} stream_start lines without stream_id`, {
    evidence: facts.startsWithoutStreamId.items,
    count: facts.startsWithoutStreamId.count,
    fix: 'runStream (src/streams/runStream.ts) logs stream_id on stream_start; an older server did not: rebuild and restart.',
  });
}

function probeEvents({ live }: DiagnoseInput): Check {
  const title = 'Events carry stream_id, session_id, seq in order, one terminal event';
  if (!live) return needsUrl('wire_events', title);
  if (!live.probe) return check('wire_events', title, 'skipped', 'the server did not answer /health, so no probe was sent');
  const { outcome, problems, session } = live.probe;
  const tokens = outcome.events.filter((e) => e.event.type === 'token').length;
  const terminal = outcome.events.at(-1)?.event;
  const what = `probe on session ${session} (stream ${outcome.streamId ?? '?'}): ${outcome.events.length} events, ${tokens} tokens, ended by ${terminal ? `${String(terminal.type)}${terminal.reason ? `/${String(terminal.reason)}` : ''}${terminal.code ? `/${String(terminal.code)}` : ''}` : 'nothing'} in ${formatMs(outcome.endedAt - outcome.sentAt)}`;
  if (problems.length === 0) return check('wire_events', title, 'ok', what);
  return check('wire_events', title, 'problem', `${what}: ${problems.length} problems`, { evidence: problems.map((text) => ({ text })), fix: FIX_WIRE });
}
