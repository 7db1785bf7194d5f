import type { ParsedLine } from '../../log/format.js';
import type { LineRef } from '../../shared/lifecycle.js';
import type { LiveStream } from './liveStream.js';
import type { LogFacts } from './logFacts.js';
import { withRefs } from './samples.js';

/**
 * A stream of the window logged its stream_end: what its life shows. It waited for
 * every stream it superseded, it went through cleanup and the registry pop, and how
 * its first token's time splits into waiting and the upstream's own delay.
 */
export function judgeEndedStream(facts: LogFacts, stream: LiveStream, line: ParsedLine, raw: string, ms: number, slowMs: number, at?: LineRef): void {
  const trace = stream.trace;
  const ids = { trace, session: stream.session };

  if (stream.superseding && stream.pending.size > 0 && [...stream.pending].every((p) => stream.endedAtStart.has(p))) {
    // It found them gone when it asked Redis: it started on an idle session after all.
    stream.pending.clear();
    stream.superseding = false;
    facts.supersedes--;
    facts.startsOnIdleSession++;
  }
  if (stream.superseding && stream.pending.size > 0) {
    // Started while older streams of its session were live, and never logged waiting for them.
    const olds = [...stream.pending].join(', ');
    const streams = [...stream.pending, trace];
    facts.unwaited.add(withRefs({ text: `${trace} started while ${olds} of session ${stream.session} was live; no prev_stream_* line shows it waiting`, ...ids, lines: [stream.startLine], streams }, stream.startAt));
    if (!stream.generating) {
      facts.overlaps.add(withRefs({ text: `session ${stream.session}: ${trace} ran alongside ${olds} (it never waited for them)`, ...ids, lines: [stream.startLine, raw], streams }, stream.startAt, at));
    }
  }
  if (!stream.cleanup) facts.missingCleanup.add(withRefs({ text: `${trace} ended without stream_cleanup_START`, ...ids, lines: [raw] }, at));
  if (stream.pop === undefined) facts.missingPop.add(withRefs({ text: `${trace} ended without stream_registry_pop_success/failed`, ...ids, lines: [raw] }, at));
  if (stream.cancelled) facts.cancelToEndMs.add(ms - stream.cancelled.ms);
  if (line.fields.upstream_close === 'forced') {
    facts.forcedUpstreamClose.add(withRefs({ text: `${trace}: the upstream ignored the abort; Jarvis cut its connection after ${line.fields.upstream_close_ms ?? '?'} ms`, ...ids, lines: [raw] }, at));
  }
  const ttft = Number(line.fields.ttft_ms);
  if (line.fields.ttft_ms !== undefined && line.fields.ttft_ms !== '-' && Number.isFinite(ttft)) {
    const wait = Math.min(stream.waitedMs, ttft);
    facts.ttftMs.add(ttft);
    facts.upstreamTtftMs.add(ttft - wait);
    if (ttft > slowMs) {
      facts.slowFirstTokens.add(withRefs({ text: `${trace}: first token after ${ttft} ms (${wait} ms waiting for a superseded stream, ${ttft - wait} ms upstream)`, ...ids, lines: [raw] }, at));
      facts.slowWaitShareMs.wait += wait;
      facts.slowWaitShareMs.total += ttft;
    }
    facts.slowest.add(ttft, () => ({ text: `${trace}: ${ttft} ms (wait ${wait} ms)`, ...ids }));
  }
}
