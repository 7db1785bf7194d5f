import { randomUUID } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { parseLine } from '../log/format.js';
import { ClusterAnalyzer } from './logAnalysis/clusterAnalyzer.js';
import { clusterSection } from './checks/clusterChecks.js';
import { deadlockSection } from './checks/deadlockChecks.js';
import { delaySection } from './checks/delayChecks.js';
import { engineSection } from './checks/engineChecks.js';
import { EngineStopAnalyzer } from './logAnalysis/engineStops.js';
import { checkWireEvents, LiveChat } from './live/httpChat.js';
import { LogAnalyzer } from './logAnalysis/logAnalyzer.js';
import type { LogFacts } from './logAnalysis/logFacts.js';
import { logSection } from './checks/logChecks.js';
import { forEachLine, forEachMergedLine, inspectLogFile, type LogFileInfo, type LogSource } from './logAnalysis/logReader.js';
import { fetchActiveStreams, probeHealth } from './live/liveServer.js';
import type { DiagnoseInput, LiveFacts, Report } from './report/report.js';
import { sinceHint } from './report/sinceHint.js';
import { uiSection } from './checks/uiChecks.js';
import { upstreamSection } from './checks/upstreamChecks.js';
import { UpstreamAnalyzer } from './logAnalysis/upstreamFacts.js';
import { sleep } from '../shared/sleep.js';
import type { LineRef } from '../shared/lifecycle.js';

export interface DiagnoseOptions {
  /** One log. */
  logFile?: string;
  /** Several instances' logs, merged by time (`--log` more than once, or a directory's *.log). */
  logFiles?: string[];
  url?: string;
  sinceMs?: number;
  session?: string;
  slowFirstTokenMs?: number;
  /** How long the probe request may take (a real model may need to load). */
  probeTimeoutMs?: number;
  model?: string;
  /** Also sees every line, in the same walk, with where it is (`--html` collects the lifecycle records). */
  sink?: LineSink;
}

/** A second reader of the walk: it gets the logs' labels first, then each line with its place. */
export interface LineSink {
  begin(sources: LogSource[]): void;
  line(raw: string, at: LineRef): void;
}

/**
 * `jarvis diagnose`: walks the log once (constant memory), then, with a URL,
 * asks the running server, and judges both, section by section (docs/operations.md).
 */
export async function runDiagnose(options: DiagnoseOptions): Promise<Report> {
  const paths = options.logFiles && options.logFiles.length > 0 ? options.logFiles : [options.logFile ?? 'logs/system.log'];
  const infos = await Promise.all(paths.map((p) => inspectLogFile(p)));
  const file = infos.length === 1 ? (infos[0] as LogFileInfo) : combine(infos);
  // Read up to the sizes seen now: the servers may append while we read, and
  // whatever they append later is where the live checks look.
  const readable = infos.filter((f) => f.exists && f.readable && !f.error);
  const labels = labelsOf(readable.map((f) => f.path));
  const sources: LogSource[] = readable.map((f, i) => ({ path: f.path, end: f.size, label: labels[i] as string }));
  let facts: LogFacts | undefined;
  let cluster: ClusterAnalyzer | undefined;
  let engine: EngineStopAnalyzer | undefined;
  let upstreams: UpstreamAnalyzer | undefined;
  if (sources.length > 0) {
    const clusterAnalyzer = new ClusterAnalyzer({ sinceMs: options.sinceMs, session: options.session, sources: sources.length });
    const engineAnalyzer = new EngineStopAnalyzer(options.sinceMs);
    const upstreamAnalyzer = new UpstreamAnalyzer({ sinceMs: options.sinceMs, session: options.session });
    cluster = clusterAnalyzer;
    engine = engineAnalyzer;
    upstreams = upstreamAnalyzer;
    const observer = {
      observe: (...args: Parameters<ClusterAnalyzer['observe']>) => {
        clusterAnalyzer.observe(...args);
        engineAnalyzer.observe(...args);
        upstreamAnalyzer.observe(...args);
      },
    };
    const analyzer = new LogAnalyzer({ sinceMs: options.sinceMs, session: options.session, slowFirstTokenMs: options.slowFirstTokenMs, observer });
    const [only] = sources;
    const sink = options.sink;
    sink?.begin(sources);
    if (sink) await walkWithSink(sources, analyzer, sink);
    else if (sources.length === 1 && only) await forEachLine(only.path, (line) => analyzer.feed(line), { end: only.end });
    else await forEachMergedLine(sources, (line, label) => analyzer.feed(line, label));
    facts = analyzer.finish();
  }
  const live = options.url ? await probeServer(options, facts, sources) : undefined;
  const input: DiagnoseInput = { file, facts, cluster: cluster?.finish(), engine: engine?.finish(), upstreams: upstreams?.finish(), live, nowMs: Date.now() };
  const clustered = clusterSection(input);
  const servers = upstreamSection(input);
  const sections = [deadlockSection(input), delaySection(input), uiSection(input), logSection(input), engineSection(input), ...(clustered ? [clustered] : []), ...(servers ? [servers] : [])];
  const problems = sections.reduce((n, s) => n + s.checks.filter((c) => c.status === 'problem').length, 0);
  const hint = options.sinceMs === undefined ? sinceHint(sections, input.nowMs) : undefined;
  return {
    log: {
      path: file.path,
      exists: file.exists,
      size: file.size,
      lines: facts?.lines ?? 0,
      first_time: facts?.firstTime ?? null,
      last_time: facts?.lastTime ?? null,
      unparsed: facts?.unparsed ?? 0,
      ...(paths.length > 1 ? { files: paths } : {}),
    },
    url: options.url ?? null,
    since: options.sinceMs === undefined ? null : new Date(options.sinceMs).toISOString(),
    session: options.session ?? null,
    sections,
    problems,
    exit_code: problems > 0 ? 1 : 0,
    ...(facts?.timeline ? { timeline: facts.timeline } : {}),
    ...(hint ? { hint } : {}),
  };
}

/** The walk with a sink: every line numbered in its own log, the same order as without. */
async function walkWithSink(sources: LogSource[], analyzer: LogAnalyzer, sink: LineSink): Promise<void> {
  const [only] = sources;
  if (sources.length === 1 && only) {
    let n = 0;
    await forEachLine(only.path, (line) => {
      const at = { source: only.label, n: ++n };
      if (line === '') return;
      sink.line(line, at);
      analyzer.feed(line, '', at);
    }, { end: only.end });
    return;
  }
  await forEachMergedLine(sources, (line, label, n) => {
    const at = { source: label, n };
    sink.line(line, at);
    analyzer.feed(line, label, at);
  });
}

/**
 * Each log's name for its lines (an instance's fallback id, a report's line references):
 * its file name without `.log`, or with its directory when two share a name (the
 * benchmark's instances each write a `system.log` in a directory of their own).
 */
export function labelsOf(paths: string[]): string[] {
  const short = paths.map((p) => basename(p).replace(/\.log$/, ''));
  return short.map((label, i) => (short.indexOf(label) === short.lastIndexOf(label) ? label : `${basename(dirname(paths[i] as string))}/${label}`));
}

/** Several logs judged as one: all must be there and readable; the first failure is named. */
function combine(infos: LogFileInfo[]): LogFileInfo {
  const bad = infos.find((f) => f.error || !f.exists || !f.readable);
  return {
    path: infos.map((f) => f.path).join(', '),
    exists: infos.every((f) => f.exists),
    readable: infos.every((f) => f.readable),
    writable: infos.every((f) => f.writable),
    size: infos.reduce((n, f) => n + f.size, 0),
    mtimeMs: Math.max(...infos.map((f) => f.mtimeMs ?? 0)) || undefined,
    error: bad ? `${bad.path}: ${bad.error ?? (bad.exists ? 'not readable (permissions)' : 'no such file')}` : undefined,
  };
}

async function probeServer(options: DiagnoseOptions, facts: LogFacts | undefined, sources: LogSource[]): Promise<LiveFacts> {
  const url = (options.url as string).replace(/\/+$/, '');
  const health = await probeHealth(url);
  const live: LiveFacts = { url, health, active: undefined, orphanState: new Map(), probe: undefined, probeLogged: undefined };
  if (!health.ok) return live;

  live.active = await fetchActiveStreams(url);
  if (facts && facts.orphans.length > 0) await classifyOrphans(sources, facts, live);

  const session = `diagnose-probe-${randomUUID().slice(0, 8)}`;
  const chat = new LiveChat(url, { session, prompt: 'Reply with the single word: ok', model: options.model, maxTokens: 16, timeoutMs: options.probeTimeoutMs ?? 60_000 });
  const outcome = await chat.outcome;
  live.probe = { session, outcome, problems: checkWireEvents(outcome, session) };
  if (outcome.streamId && facts) live.probeLogged = await waitForLogLine(sources, 'stream_start', outcome.streamId, 5000);
  return live;
}

/** An orphan of the log is still running (listed by /debug/streams), ended since we read, or lost. */
async function classifyOrphans(sources: LogSource[], facts: LogFacts, live: LiveFacts): Promise<void> {
  const active = new Set(live.active?.streams.map((s) => s.stream_id) ?? []);
  const unknown = new Set<string>();
  for (const o of facts.orphans) {
    if (active.has(o.trace)) live.orphanState.set(o.trace, 'active');
    else unknown.add(o.trace);
  }
  if (unknown.size === 0) return;
  // Not active now: it may have ended between our read and the snapshot. Its
  // stream_end is then past readEnd (the log is written asynchronously: a short grace).
  await sleep(300);
  for (const s of sources) {
    await forEachLine(s.path, (raw) => {
      if (!raw.includes(' stream_end ')) return;
      const line = parseLine(raw);
      const trace = line?.event === 'stream_end' ? line.fields.trace : undefined;
      if (trace !== undefined && unknown.delete(trace)) live.orphanState.set(trace, 'ended');
    }, { start: s.end });
  }
  // Without /debug/streams we cannot tell running from lost: leave those unjudged.
  if (live.active) for (const trace of unknown) live.orphanState.set(trace, 'lost');
}

/** Polls the part of each log written after it was read for `event trace=<trace>`. */
async function waitForLogLine(sources: LogSource[], event: string, trace: string, timeoutMs: number): Promise<{ found: boolean; ms: number }> {
  const started = performance.now();
  const needle = ` ${event} trace=${trace}`;
  for (;;) {
    let found = false;
    for (const s of sources) {
      try {
        await forEachLine(s.path, (raw) => {
          if (!found && raw.includes(needle)) found = true;
        }, { start: s.end });
      } catch {
        // The file may have been rotated or removed meanwhile: not found.
      }
    }
    const ms = performance.now() - started;
    if (found || ms >= timeoutMs) return { found, ms };
    await sleep(100);
  }
}
