import { BackendError, type Backend, type BackendRequest } from '../backends/types.js';
import { FIRST_TOKEN_EVENT } from '../shared/lifecycle.js';
import type { SystemLog } from '../log/systemLog.js';
import type { ChatStream } from './chatStream.js';
import { ClusterUnavailableError, type SessionCoordinator } from './coordinator.js';
import type { StartPacer } from './startPacer.js';
import { noMetrics, type StreamMetrics } from './streamMetrics.js';
import { cancelFields, cancelVerdict, verdictPending, type EngineWork } from './cancelVerdict.js';
import type { StreamTracer } from './streamTracer.js';
import { streamDeadlines, type Deadline } from './deadlines.js';

/** What every stream of a server runs with (one object, shared by its streams). */
export interface RunStreamDeps {
  registry: SessionCoordinator;
  log: SystemLog;
  firstTokenTimeoutMs: number;
  metrics?: StreamMetrics;
  /** Spreads upstream starts over event-loop turns (see StartPacer). */
  pacer?: StartPacer;
  /** Generation limits Jarvis enforces whatever the backend does; unbounded when absent. */
  limits?: GenerationLimits;
  /** Tracing on (docs/observability.md): the stream's span, a child of `traceParent` (the request's span). Off: undefined. */
  tracer?: StreamTracer;
}

/** What is this stream's own: its backend and its caller's hooks (methods of one object, no closure held per stream). */
export interface StreamRunHooks {
  backend: Backend;
  /** The request's span (tracing on): the stream's span is its child. */
  traceParent?: unknown;
  /** Runs right after `stream_start` is logged: where the caller starts watching its client. */
  onStart?(stream: ChatStream): void;
  /** Runs once the stream has ended (after `stream_end`), whatever the outcome. */
  onEnd?(stream: ChatStream): void;
}

export interface GenerationLimits {
  /** `max_tokens` when the request names none. */
  maxTokensDefault: number;
  /** After the first token, no token for this long ends the stream with `timeout`. */
  stallTimeoutMs: number;
  /** No stream lives longer than this (from stream_start). */
  maxStreamMs: number;
}

/**
 * Owns one stream from `stream_start` to `stream_end`. Whatever happens (done,
 * superseded, stopped, client gone, upstream failing or hanging, shutdown), the
 * `finally` below runs once: it pops the stream and logs its one `stream_end`.
 */
export async function runStream(stream: ChatStream, request: BackendRequest, deps: RunStreamDeps, run: StreamRunHooks): Promise<void> {
  const { registry, log } = deps;
  const { backend } = run;
  const metrics = deps.metrics ?? noMetrics;
  const trace = stream.id;
  log.info('stream_start', {
    trace,
    session: stream.sessionId,
    stream_id: stream.id,
    model: request.model,
    backend: backend.name,
    key: stream.owner || undefined,
    user: stream.user,
  });
  metrics.streamStarted(stream);
  const span = deps.tracer?.startStream(stream, request, backend.name, run.traceParent);
  const upstreamRequest = span?.headers ? { ...request, trace: span.headers } : request;
  // Its deadlines (first token, stall, maximum duration) on the timer all streams share.
  const deadline: Deadline = { at: 0, index: -1, fire: noop };
  const work: EngineWork = { asked: false };
  try {
    run.onStart?.(stream);
    if (registry.claim) await registry.claim(stream);
    stream.sendStatus();
    if (span && registry.superseded) span.supersedes(await registry.superseded(stream));
    await registry.acquire(stream);
    if (stream.signal.aborted) return;
    const turn = deps.pacer?.turn();
    if (turn) {
      await turn;
      if (stream.signal.aborted) return;
    }
    stream.startStreaming();

    const limits = deps.limits;
    // The default cap is Jarvis's, not the client's: it is enforced here and not sent
    // upstream, so the model's own defaults (and a request's exact options) stay as they were.
    const maxTokens = request.maxTokens ?? limits?.maxTokensDefault ?? Infinity;
    // One deadline per stream watches for silence and for the end of its time; chunks
    // only record when they came (once per upstream read), so the per-token path sets no timer.
    const streamingAt = performance.now();
    let lastProgressAt = streamingAt;
    const watchdog = () => {
      if (stream.outcome) return; // already ended another way, its upstream still closing
      const now = performance.now();
      const first = stream.firstTokenMs === undefined;
      const endBy = stream.startedMs + (limits?.maxStreamMs ?? Infinity);
      // Waiting in a model server's queue is not the server being silent: the first-token wait
      // counts from when its server was chosen (the queue has its own bound, docs/upstreams.md).
      const waitFrom = Math.max(streamingAt, stream.routedAt ?? 0);
      const silentBy = first ? (stream.inQueue ? now + deps.firstTokenTimeoutMs : waitFrom + deps.firstTokenTimeoutMs) : lastProgressAt + (limits?.stallTimeoutMs ?? Infinity);
      if (now < endBy && now < silentBy) {
        streamDeadlines.set(deadline, Math.min(endBy, silentBy));
        return;
      }
      const [limit, message] =
        now >= endBy
          ? ['max_stream_ms', `the stream reached its maximum duration of ${limits?.maxStreamMs} ms (JARVIS_MAX_STREAM_MS)`]
          : first
            ? ['first_token', `no first token from ${source(backend, stream)} within ${deps.firstTokenTimeoutMs} ms`]
            : ['stall', `no token from ${source(backend, stream)} for ${limits?.stallTimeoutMs} ms (JARVIS_STALL_TIMEOUT_MS)`];
      log.warn('upstream_error', { trace, session: stream.sessionId, code: 'timeout', limit, waited_ms: Math.round(now - (first ? waitFrom : lastProgressAt)), tokens: stream.tokens, upstream: stream.upstream });
      metrics.upstreamError('timeout', stream);
      stream.fail('timeout', message);
    };
    deadline.fire = watchdog;
    watchdog();

    const debug = log.enabled('debug');
    // The first sign of progress (a token, reasoning or a tool call) ends the first-token wait:
    // a model that thinks for a minute is working, not hanging. From then on the watchdog
    // waits for the stall limit.
    let progressed = false;
    const firstProgress = () => {
      progressed = true;
      metrics.firstToken(stream, stream.firstTokenMs ?? 0);
      // For the live timeline only (docs/observability.md), never the file: stream_end carries ttft_ms.
      if (log.tapped) log.tapOnly(FIRST_TOKEN_EVENT, { trace, stream_id: stream.id, session: stream.sessionId, ttft_ms: Math.round(stream.firstTokenMs ?? 0) });
      lastProgressAt = performance.now();
      streamDeadlines.clear(deadline);
      watchdog();
    };
    work.asked = true;
    upstream: for await (const batch of backend.stream(upstreamRequest, stream.signal, stream)) {
      // Cluster: after a pause past its lease, nothing is written before a renewal says it still holds.
      const leaseCheck = registry.checkLease?.(stream);
      if (leaseCheck) {
        await leaseCheck;
        if (stream.signal.aborted) break upstream;
      }
      for (let i = 0; i < batch.length; i++) {
        const chunk = batch[i]!;
        if (stream.signal.aborted) break upstream;
        let backPressure: Promise<void> | undefined;
        if (chunk.type === 'token') {
          if (debug) log.debug('stream_token', { trace, stream_id: stream.id, seq: stream.tokens, text: chunk.text });
          backPressure = stream.sendToken(chunk.text);
        } else if (chunk.type === 'reasoning') {
          if (debug) log.debug('stream_reasoning', { trace, stream_id: stream.id, seq: stream.reasoningParts, text: chunk.text });
          backPressure = stream.sendReasoning(chunk.text);
        } else if (chunk.type === 'tool_call') {
          log.info('stream_tool_call', { trace, stream_id: stream.id, index: stream.toolCalls, name: chunk.call.name });
          backPressure = stream.sendToolCall(chunk.call);
        } else if (chunk.type === 'scored_token') {
          // Only a request that asked for logprobs gets here; the plain token above stays the hot path.
          if (debug) log.debug('stream_token', { trace, stream_id: stream.id, seq: stream.tokens, text: chunk.text });
          backPressure = stream.sendScoredToken(chunk.text, chunk.logprobs);
        } else if (chunk.type === 'choice') {
          backPressure = stream.sendChoice(chunk.delta);
        } else {
          stream.conclude({
            kind: 'done',
            reason: chunk.reason,
            usage: {
              prompt_tokens: chunk.usage?.prompt_tokens ?? 0,
              // Without the upstream's count: the tokens of every choice (`n` > 1), each piece about one.
              completion_tokens: chunk.usage?.completion_tokens ?? stream.tokens + stream.choiceTokens,
            },
            // What the usage record says of its figures (docs/team.md "Usage and limits").
            reported: chunk.usage?.completion_tokens !== undefined,
          });
          continue;
        }
        // sendX recorded the time to first progress; the metric reports the same figure.
        if (!progressed) firstProgress();
        // At the limit with the backend's own `done` next in the batch (it stopped there too): that ends the reply, with its usage.
        const doneNext = batch[i + 1]?.type === 'done' && !stream.replyFull;
        if ((stream.tokens >= maxTokens || stream.replyFull) && !doneNext) {
          log.info('stream_truncated', { trace, session: stream.sessionId, limit: stream.replyFull ? 'reply_bytes' : 'max_tokens', tokens: stream.tokens });
          stream.truncate();
          break upstream;
        }
        if (backPressure) await backPressure;
      }
      lastProgressAt = performance.now();
    }
    // Leaving the loop (a break included) awaited the backend iterator's `finally`: its work has ended.
    work.endedAt = performance.now();
    if (!stream.outcome) stream.fail('upstream_error', `${source(backend, stream)} ended without finishing the reply`);
  } catch (err) {
    if (work.asked) work.endedAt ??= performance.now();
    if (!stream.outcome) {
      if (err instanceof ClusterUnavailableError) {
        log.warn('cluster_unavailable', { trace, session: stream.sessionId, error: err.message });
        stream.fail('cluster_unavailable', err.message, 503);
      } else if (err instanceof BackendError) {
        log.warn('upstream_error', { trace, session: stream.sessionId, code: err.code, error: err.message, detail: err.detail, upstream: stream.upstream, ...err.fields });
        metrics.upstreamError(err.code, stream);
        stream.fail(err.code, err.message, err.status, err.detail);
      } else {
        log.error('stream_internal_error', { trace, session: stream.sessionId, error: err instanceof Error ? err.stack ?? err.message : String(err) });
        stream.fail('internal_error', 'Jarvis failed while streaming; see the system log');
      }
    }
  } finally {
    streamDeadlines.clear(deadline);
    if (!stream.outcome) stream.fail('internal_error', 'stream ended without an outcome');
    // Still live (`closing`) while it waits, so a successor waits for the engine's verdict too; never past the grace.
    if (verdictPending(stream, work)) await stream.engineReported();
    log.info('stream_cleanup_START', { trace });
    try {
      registry.release(stream);
      log.info('stream_registry_pop_success', { trace });
    } catch (err) {
      log.error('stream_registry_pop_failed', { trace, error: err instanceof Error ? err.message : String(err) });
    }
    const verdict = cancelVerdict(stream, work);
    stream.settleCancel(verdict);
    const outcome = stream.outcome;
    const reason = outcome?.kind === 'done' ? 'done' : outcome?.kind === 'cancelled' ? outcome.reason : 'error';
    log.info('stream_end', {
      trace,
      session: stream.sessionId,
      reason,
      finish: outcome?.kind === 'done' ? outcome.reason : undefined,
      error_code: outcome?.kind === 'error' ? outcome.code : undefined,
      tokens: stream.tokens,
      upstream: stream.upstream,
      duration_ms: Math.round(performance.now() - stream.startedMs),
      ttft_ms: stream.firstTokenMs === undefined ? undefined : Math.round(stream.firstTokenMs),
      upstream_close: stream.upstreamClose?.outcome,
      upstream_close_ms: stream.upstreamClose ? Math.round(stream.upstreamClose.ms) : undefined,
      ...cancelFields(verdict),
      ...stream.timing.logFields(),
    });
    metrics.streamEnded(stream, reason);
    if (verdict) metrics.engineStop?.(backend.name, verdict);
    span?.end(stream);
    stream.markFinished();
    run.onEnd?.(stream);
  }
}

function noop(): void {}

/** How a message names where the tokens come from: the model server of several, else the backend. */
function source(backend: Backend, stream: ChatStream): string {
  return stream.upstream ? `the model server ${stream.upstream}` : `the ${backend.name} backend`;
}
