import { BackendError, type Backend, type BackendRequest } from '../backends/types.js';
import type { SystemLog } from '../log/systemLog.js';
import type { ChatStream } from './chatStream.js';
import type { StreamRegistry } from './registry.js';
import { noMetrics, type StreamMetrics } from './streamMetrics.js';

export interface RunStreamDeps {
  registry: StreamRegistry;
  backend: Backend;
  log: SystemLog;
  firstTokenTimeoutMs: number;
  metrics?: StreamMetrics;
  /** Runs right after `stream_start` is logged: where the caller starts watching its client. */
  onStart?: () => void;
}

/**
 * Owns one stream from `stream_start` to `stream_end`. Whatever happens (done,
 * superseded, stopped, client gone, upstream failing or hanging, shutdown), the
 * `finally` below runs once: it pops the stream and logs its one `stream_end`.
 */
export async function runStream(stream: ChatStream, request: BackendRequest, deps: RunStreamDeps): Promise<void> {
  const { registry, backend, log } = deps;
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
  let firstTokenTimer: NodeJS.Timeout | undefined;
  try {
    deps.onStart?.();
    stream.sendStatus();
    await registry.register(stream);
    if (stream.signal.aborted) return;
    stream.state = 'streaming';

    firstTokenTimer = setTimeout(() => {
      if (stream.outcome) return; // already ended another way, its upstream still closing
      log.warn('upstream_error', { trace, session: stream.sessionId, code: 'timeout', waited_ms: deps.firstTokenTimeoutMs });
      metrics.upstreamError('timeout');
      stream.fail('timeout', `no first token from the ${backend.name} backend within ${deps.firstTokenTimeoutMs} ms`);
    }, deps.firstTokenTimeoutMs);

    const debug = log.enabled('debug');
    // The first sign of progress (a token, reasoning or a tool call) ends the first-token wait:
    // a model that thinks for a minute is working, not hanging.
    const progressed = () => {
      clearTimeout(firstTokenTimer);
      firstTokenTimer = undefined;
      metrics.firstToken(stream, stream.firstTokenMs ?? 0);
    };
    upstream: for await (const batch of backend.stream(request, stream.signal, stream)) {
      for (const chunk of batch) {
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
        } else {
          stream.conclude({
            kind: 'done',
            reason: chunk.reason,
            usage: {
              prompt_tokens: chunk.usage?.prompt_tokens ?? 0,
              completion_tokens: chunk.usage?.completion_tokens ?? stream.tokens,
            },
          });
          continue;
        }
        // sendX recorded the time to first progress; the metric reports the same figure.
        if (firstTokenTimer !== undefined) progressed();
        if (backPressure) await backPressure;
      }
    }
    if (!stream.outcome) stream.fail('upstream_error', `the ${backend.name} backend ended without finishing the reply`);
  } catch (err) {
    if (!stream.outcome) {
      if (err instanceof BackendError) {
        log.warn('upstream_error', { trace, session: stream.sessionId, code: err.code, error: err.message, ...err.detail });
        metrics.upstreamError(err.code);
        stream.fail(err.code, err.message, err.status);
      } else {
        log.error('stream_internal_error', { trace, session: stream.sessionId, error: err instanceof Error ? err.stack ?? err.message : String(err) });
        stream.fail('internal_error', 'Jarvis failed while streaming; see the system log');
      }
    }
  } finally {
    clearTimeout(firstTokenTimer);
    if (!stream.outcome) stream.fail('internal_error', 'stream ended without an outcome');
    log.info('stream_cleanup_START', { trace });
    try {
      registry.pop(stream);
      log.info('stream_registry_pop_success', { trace });
    } catch (err) {
      log.error('stream_registry_pop_failed', { trace, error: err instanceof Error ? err.message : String(err) });
    }
    const outcome = stream.outcome;
    const reason = outcome?.kind === 'done' ? 'done' : outcome?.kind === 'cancelled' ? outcome.reason : 'error';
    log.info('stream_end', {
      trace,
      session: stream.sessionId,
      reason,
      finish: outcome?.kind === 'done' ? outcome.reason : undefined,
      error_code: outcome?.kind === 'error' ? outcome.code : undefined,
      tokens: stream.tokens,
      duration_ms: Math.round(performance.now() - stream.startedMs),
      ttft_ms: stream.firstTokenMs === undefined ? undefined : Math.round(stream.firstTokenMs),
      upstream_close: stream.upstreamClose?.outcome,
      upstream_close_ms: stream.upstreamClose ? Math.round(stream.upstreamClose.ms) : undefined,
    });
    metrics.streamEnded(stream, reason);
    stream.markFinished();
  }
}
