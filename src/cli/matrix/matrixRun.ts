import { checkWireEvents, LiveChat, type ChatOutcome, type TimedEvent } from '../../diagnostics/live/httpChat.js';
import { fetchActiveStreams } from '../../diagnostics/live/liveServer.js';
import { readSupersedeTotals, supersedeDelta, type SupersedeDelta, type SupersedeTotals } from './supersedeMetrics.js';
import { authHeaders } from '../../diagnostics/live/apiKey.js';
import { sleep } from '../../shared/sleep.js';
import { engineVerdictOf, type EngineVerdict } from '../../shared/stop.js';

export interface MatrixOptions {
  url: string;
  model?: string;
  /** Longest a single request may take (a real model may have to load first). */
  requestTimeoutMs: number;
  /** How soon after its end a stream must have released its upstream (left /debug/streams). */
  releaseMs: number;
  runId: string;
}

export interface RowResult {
  test: string;
  expected: string;
  pass: boolean;
  result: string;
  /** Why it failed, one line each. */
  problems: string[];
  timings: { ttft?: string; supersedeWait?: string; stopToCancelled?: string; released?: string; engineStop?: string };
  /** Cancels the engine did not confirm it stopped (from `/metrics`): reported, not a failure (docs/operations.md). */
  unconfirmedCancels?: number;
  sessions: string[];
}

/** A short reply, and one long enough to be interrupted, whatever the model. */
export const SHORT_PROMPT = 'Say hello in one short sentence.';
export const LONG_PROMPT = 'Count from 1 to 300, one number per line, with no other text.';

/** What every matrix row needs: sending prompts, reading metrics, waiting for release. */
export class MatrixRun {
  private readonly streams: string[] = [];

  constructor(readonly options: MatrixOptions) {}

  session(name: string): string {
    return `matrix-${this.options.runId}-${name}`;
  }

  send(session: string, prompt: string): LiveChat {
    const chat = new LiveChat(this.options.url, { session, prompt, model: this.options.model, timeoutMs: this.options.requestTimeoutMs });
    void chat.streamId.then((id) => this.streams.push(id), () => {});
    return chat;
  }

  supersedeTotals(): Promise<SupersedeTotals | undefined> {
    return readSupersedeTotals(this.options.url);
  }

  async supersedeSince(before: SupersedeTotals | undefined): Promise<SupersedeDelta | undefined> {
    return supersedeDelta(before, await this.supersedeTotals());
  }

  /** `engine`: the engine's verdict, when the server answering the Stop ran the stream (docs/api.md "Stop"). */
  async stop(session: string): Promise<{ status: number; stopped: unknown; engine: EngineVerdict | undefined }> {
    const res = await fetch(new URL(`/v1/sessions/${encodeURIComponent(session)}/stop`, this.options.url), { method: 'POST', headers: authHeaders(), signal: AbortSignal.timeout(5000) });
    const body = (await res.json().catch(() => ({}))) as { stopped?: unknown; engine?: unknown };
    return { status: res.status, stopped: body.stopped, engine: engineVerdictOf(body.engine) };
  }

  /**
   * Waits until none of these streams is live on the server any more (their
   * upstream released, stream_end logged). Undefined when the server has no
   * /debug/streams; `stuck` lists what was still live at the deadline.
   */
  async released(chats: LiveChat[], since: number): Promise<{ ms: number; stuck: string[] } | undefined> {
    const ids = new Set(chats.map((c) => c.knownStreamId).filter((id): id is string => id !== undefined));
    for (;;) {
      const snapshot = await fetchActiveStreams(this.options.url);
      if (!snapshot) return undefined;
      const still = snapshot.streams.filter((s) => ids.has(s.stream_id));
      const ms = performance.now() - since;
      if (still.length === 0) return { ms, stuck: [] };
      if (ms > this.options.releaseMs) return { ms, stuck: still.map((s) => `${s.stream_id} (${s.state}, upstream ${s.upstream_open ? 'open' : 'closed'}, ${s.tokens} tokens)`) };
      await sleep(25);
    }
  }
}

export function terminalOf(outcome: ChatOutcome): Record<string, unknown> | undefined {
  const last = outcome.events.at(-1)?.event;
  return last && ['done', 'cancelled', 'error'].includes(String(last.type)) ? last : undefined;
}

export function describeTerminal(outcome: ChatOutcome): string {
  const t = terminalOf(outcome);
  if (!t) return outcome.error ? `failed (${outcome.error})` : outcome.status !== 200 ? `HTTP ${outcome.status}` : 'no terminal event';
  if (t.type === 'error') return `error/${String(t.code)}: ${String(t.message).slice(0, 120)}`;
  return `${String(t.type)}/${String(t.reason)}`;
}

export function isTerminal(outcome: ChatOutcome, type: string, reason?: string): boolean {
  const t = terminalOf(outcome);
  return t?.type === type && (reason === undefined || t.reason === reason);
}

export function ttft(outcome: ChatOutcome): number | undefined {
  const first = outcome.events.find((e: TimedEvent) => e.event.type === 'token');
  return first ? first.at - outcome.sentAt : undefined;
}

export function wireProblems(label: string, outcome: ChatOutcome, session: string): string[] {
  return checkWireEvents(outcome, session).map((p) => `${label}: ${p}`);
}

export function ms(value: number | undefined): string {
  return value === undefined ? '-' : value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}
