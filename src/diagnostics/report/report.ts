import type { Evidence } from '../logAnalysis/samples.js';
import type { ClusterFacts } from '../logAnalysis/clusterAnalyzer.js';
import type { LogFacts } from '../logAnalysis/logFacts.js';
import type { EngineStopFacts } from '../logAnalysis/engineStops.js';
import type { UpstreamFacts } from '../logAnalysis/upstreamFacts.js';
import type { LogFileInfo } from '../logAnalysis/logReader.js';
import type { HealthProbe } from '../live/liveServer.js';
import type { ChatOutcome } from '../live/httpChat.js';
import type { DebugStreamsResponse } from '../../server/operations/debug.js';

/** ok ✓ · problem ❌ · skipped: the check needs something this run does not have (a log, --url). */
export type CheckStatus = 'ok' | 'problem' | 'skipped';

export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  summary: string;
  evidence: Evidence[];
  /** How many cases in all, when the evidence shows only the first few. */
  count?: number;
  /** What to do about it, in this Jarvis's terms (docs/operations.md). Given with every problem. */
  fix?: string;
}

export interface Section {
  id: 'deadlock' | 'delays' | 'ui' | 'logs' | 'cluster' | 'engine' | 'upstreams';
  title: string;
  checks: Check[];
}

/** What `--url` learned from the running server. */
export interface LiveFacts {
  url: string;
  health: HealthProbe;
  active: DebugStreamsResponse | undefined;
  /** For each orphan of the log: still running on the server, ended since the log was read, or lost. */
  orphanState: Map<string, 'active' | 'ended' | 'lost'>;
  probe: { session: string; outcome: ChatOutcome; problems: string[] } | undefined;
  /** Whether the probe's stream_start reached the log, and how fast. */
  probeLogged: { found: boolean; ms: number } | undefined;
}

/** Everything the checks read. */
export interface DiagnoseInput {
  file: LogFileInfo;
  facts: LogFacts | undefined;
  /** Several instances' logs (or lines with `instance=`): the cross-instance findings. */
  cluster?: ClusterFacts;
  /** What the log says about engines after a Stop. */
  engine?: EngineStopFacts | undefined;
  /** What the log says about each model server, when its lines name them (several servers). */
  upstreams?: UpstreamFacts | undefined;
  live: LiveFacts | undefined;
  nowMs: number;
}

export interface Report {
  log: { path: string; exists: boolean; size: number; lines: number; first_time: string | null; last_time: string | null; unparsed: number; files?: string[] };
  url: string | null;
  since: string | null;
  session: string | null;
  sections: Section[];
  problems: number;
  exit_code: 0 | 1;
  timeline?: string[];
  /** Every problem is old: how to look at recent lines only (`--since`). */
  hint?: string;
}

export function check(id: string, title: string, status: CheckStatus, summary: string, extra: { evidence?: Evidence[]; count?: number; fix?: string } = {}): Check {
  return { id, title, status, summary, evidence: extra.evidence ?? [], ...(extra.count !== undefined ? { count: extra.count } : {}), ...(status === 'problem' && extra.fix ? { fix: extra.fix } : {}) };
}

export function noLog(id: string, title: string): Check {
  return check(id, title, 'skipped', 'no log lines to check (see "No logs at all")');
}

export function needsUrl(id: string, title: string): Check {
  return check(id, title, 'skipped', 'needs a running server: pass --url http://HOST:PORT');
}
