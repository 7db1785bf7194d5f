import { Distribution } from './distribution.js';
import type { ParsedLine } from '../../log/format.js';
import type { LineRef } from '../../shared/lifecycle.js';
import { Samples, TopK } from './samples.js';

export interface AnalyzerOptions {
  /** Only streams that started at or after this time (ms since epoch) are judged. */
  sinceMs?: number;
  /** Only this session's streams are judged, and its lines are kept as a timeline. */
  session?: string;
  /** A first token slower than this is reported. */
  slowFirstTokenMs?: number;
  /** Orphans kept by id (for `--url` to ask the server about); the count is always exact. */
  orphanLimit?: number;
  /** Also sees every line the analyzer parses (the cluster checks), with its instance. */
  observer?: LineObserver;
}

/** Fed the parsed lines of the events the analyzer reads, in order. */
export interface LineObserver {
  /** `at`: where the line is, when the walk numbers lines (evidence keeps it). */
  observe(line: ParsedLine, raw: string, instance: string, ms: number, at?: LineRef): void;
}

export interface OrphanRecord {
  trace: string;
  session: string;
  startMs: number;
  line: string;
  cancelled: boolean;
  lastError: string | undefined;
  at?: LineRef | undefined;
  lastErrorAt?: LineRef | undefined;
}

/** Everything `diagnose` learned from the log; the checks turn it into findings. */
export interface LogFacts {
  lines: number;
  unparsed: number;
  firstUnparsed: string | undefined;
  firstTime: string | undefined;
  lastTime: string | undefined;
  streamsStarted: number;
  streamsEnded: number;
  /** stream_start on a session that had no live stream: includes one session's prompts one after the other, which a script comparing the last two stream_start lines misreads. */
  startsOnIdleSession: number;
  supersedes: number;
  waits: { clean: number; timeout: number; abandoned: number };
  unwaited: Samples;
  overlaps: Samples;
  timeoutOverlaps: number;
  timeouts: Samples;
  orphans: OrphanRecord[];
  orphanCount: number;
  lostAtRestart: Samples;
  /** Streams another instance recorded lost (`stream_lost`): ended, though their own instance never logged it. */
  lostInCluster: number;
  restarts: number;
  /** A server started while the previous one had not logged shutdown_complete (killed or crashed). */
  uncleanRestarts: Samples;
  /** Lines the server could not write (log_lines_dropped count=, logged once the log recovered). */
  droppedLines: number;
  droppedLineReports: Samples;
  missingPop: Samples;
  popFailed: Samples;
  missingCleanup: Samples;
  cancelledNoEnd: Samples;
  duplicateEnds: Samples;
  endsWithoutStart: number;
  startsWithoutStreamId: Samples;
  waitMs: Distribution;
  cancelToEndMs: Distribution;
  ttftMs: Distribution;
  upstreamTtftMs: Distribution;
  slowFirstTokens: Samples;
  slowest: TopK;
  slowWaitShareMs: { wait: number; total: number };
  forcedUpstreamClose: Samples;
  upstreamErrors: Map<string, number>;
  upstreamErrorSamples: Samples;
  internalErrors: Samples;
  timeline: string[] | undefined;
  timelineTruncated: boolean;
}

/** Facts before the first line; `withTimeline` when one session's lines are kept (`--session`). */
export function emptyLogFacts(withTimeline: boolean): LogFacts {
  return {
    lines: 0,
    unparsed: 0,
    firstUnparsed: undefined,
    firstTime: undefined,
    lastTime: undefined,
    streamsStarted: 0,
    streamsEnded: 0,
    startsOnIdleSession: 0,
    supersedes: 0,
    waits: { clean: 0, timeout: 0, abandoned: 0 },
    unwaited: new Samples(),
    overlaps: new Samples(),
    timeoutOverlaps: 0,
    timeouts: new Samples(),
    orphans: [],
    orphanCount: 0,
    lostAtRestart: new Samples(),
    lostInCluster: 0,
    restarts: 0,
    uncleanRestarts: new Samples(),
    droppedLines: 0,
    droppedLineReports: new Samples(),
    missingPop: new Samples(),
    popFailed: new Samples(),
    missingCleanup: new Samples(),
    cancelledNoEnd: new Samples(),
    duplicateEnds: new Samples(),
    endsWithoutStart: 0,
    startsWithoutStreamId: new Samples(),
    waitMs: new Distribution(),
    cancelToEndMs: new Distribution(),
    ttftMs: new Distribution(),
    upstreamTtftMs: new Distribution(),
    slowFirstTokens: new Samples(),
    slowest: new TopK(),
    slowWaitShareMs: { wait: 0, total: 0 },
    forcedUpstreamClose: new Samples(),
    upstreamErrors: new Map(),
    upstreamErrorSamples: new Samples(),
    internalErrors: new Samples(),
    timeline: withTimeline ? [] : undefined,
    timelineTruncated: false,
  };
}
