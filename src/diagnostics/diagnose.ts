import { randomUUID } from 'node:crypto';
import { parseLine } from '../log/format.js';
import { deadlockSection } from './deadlockChecks.js';
import { delaySection } from './delayChecks.js';
import { checkWireEvents, LiveChat } from './httpChat.js';
import { LogAnalyzer, type LogFacts } from './logAnalyzer.js';
import { logSection } from './logChecks.js';
import { forEachLine, inspectLogFile } from './logReader.js';
import { fetchActiveStreams, probeHealth } from './liveServer.js';
import type { DiagnoseInput, LiveFacts, Report } from './report.js';
import { uiSection } from './uiChecks.js';

export interface DiagnoseOptions {
  logFile: string;
  url?: string;
  sinceMs?: number;
  session?: string;
  slowFirstTokenMs?: number;
  /** How long the probe request may take (a real model may need to load). */
  probeTimeoutMs?: number;
  model?: string;
}

/**
 * `jarvis diagnose`: walks the log once (constant memory), then, with a URL,
 * asks the running server, and judges both in the runbook's order.
 */
export async function runDiagnose(options: DiagnoseOptions): Promise<Report> {
  const file = await inspectLogFile(options.logFile);
  let facts: LogFacts | undefined;
  // Read up to the size seen now: the server may append while we read, and
  // whatever it appends later is where the live checks look.
  const readEnd = file.size;
  if (file.exists && file.readable && !file.error) {
    const analyzer = new LogAnalyzer({ sinceMs: options.sinceMs, session: options.session, slowFirstTokenMs: options.slowFirstTokenMs });
    await forEachLine(options.logFile, (line) => analyzer.feed(line), { end: readEnd });
    facts = analyzer.finish();
  }
  const live = options.url ? await probeServer(options, facts, readEnd) : undefined;
  const input: DiagnoseInput = { file, facts, live, nowMs: Date.now() };
  const sections = [deadlockSection(input), delaySection(input), uiSection(input), logSection(input)];
  const problems = sections.reduce((n, s) => n + s.checks.filter((c) => c.status === 'problem').length, 0);
  return {
    log: { path: file.path, exists: file.exists, size: file.size, lines: facts?.lines ?? 0, first_time: facts?.firstTime ?? null, last_time: facts?.lastTime ?? null, unparsed: facts?.unparsed ?? 0 },
    url: options.url ?? null,
    since: options.sinceMs === undefined ? null : new Date(options.sinceMs).toISOString(),
    session: options.session ?? null,
    sections,
    problems,
    exit_code: problems > 0 ? 1 : 0,
    ...(facts?.timeline ? { timeline: facts.timeline } : {}),
  };
}

async function probeServer(options: DiagnoseOptions, facts: LogFacts | undefined, readEnd: number): Promise<LiveFacts> {
  const url = (options.url as string).replace(/\/+$/, '');
  const health = await probeHealth(url);
  const live: LiveFacts = { url, health, active: undefined, orphanState: new Map(), probe: undefined, probeLogged: undefined };
  if (!health.ok) return live;

  live.active = await fetchActiveStreams(url);
  if (facts && facts.orphans.length > 0) await classifyOrphans(options.logFile, facts, live, readEnd);

  const session = `diagnose-probe-${randomUUID().slice(0, 8)}`;
  const chat = new LiveChat(url, { session, prompt: 'Reply with the single word: ok', model: options.model, maxTokens: 16, timeoutMs: options.probeTimeoutMs ?? 60_000 });
  const outcome = await chat.outcome;
  live.probe = { session, outcome, problems: checkWireEvents(outcome, session) };
  if (outcome.streamId && facts) live.probeLogged = await waitForLogLine(options.logFile, readEnd, 'stream_start', outcome.streamId, 5000);
  return live;
}

/** An orphan of the log is still running (listed by /debug/streams), ended since we read, or lost. */
async function classifyOrphans(logFile: string, facts: LogFacts, live: LiveFacts, readEnd: number): Promise<void> {
  const active = new Set(live.active?.streams.map((s) => s.stream_id) ?? []);
  const unknown = new Set<string>();
  for (const o of facts.orphans) {
    if (active.has(o.trace)) live.orphanState.set(o.trace, 'active');
    else unknown.add(o.trace);
  }
  if (unknown.size === 0) return;
  // Not active now: it may have ended between our read and the snapshot. Its
  // stream_end is then past readEnd (the log is written asynchronously: a short grace).
  await new Promise((r) => setTimeout(r, 300));
  await forEachLine(logFile, (raw) => {
    if (!raw.includes(' stream_end ')) return;
    const trace = parseLine(raw)?.fields.trace;
    if (trace !== undefined && unknown.delete(trace)) live.orphanState.set(trace, 'ended');
  }, { start: readEnd });
  // Without /debug/streams we cannot tell running from lost: leave those unjudged.
  if (live.active) for (const trace of unknown) live.orphanState.set(trace, 'lost');
}

/** Polls the part of the log written after `from` for `event trace=<trace>`. */
async function waitForLogLine(logFile: string, from: number, event: string, trace: string, timeoutMs: number): Promise<{ found: boolean; ms: number }> {
  const started = performance.now();
  const needle = ` ${event} trace=${trace}`;
  for (;;) {
    let found = false;
    try {
      await forEachLine(logFile, (raw) => {
        if (!found && raw.includes(needle)) found = true;
      }, { start: from });
    } catch {
      // The file may have been rotated or removed meanwhile: not found.
    }
    const ms = performance.now() - started;
    if (found || ms >= timeoutMs) return { found, ms };
    await new Promise((r) => setTimeout(r, 100));
  }
}
