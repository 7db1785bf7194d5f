import { SpanStatusCode, type Attributes, type Span, type SpanContext } from '@opentelemetry/api';
import type { TraceHeaders } from '../backends/types.js';
import type { ChatStream } from '../streams/chatStream.js';
import type { StreamSpan } from '../streams/streamTracer.js';
import { headersOf, type SpanContexts } from './spanContexts.js';

/** A link lookup (Redis) slower than this is given up: the span ends without that link. */
const LINK_WAIT_MS = 2000;

/** performance.now() as the epoch milliseconds a span's times are given in. */
export function epoch(perfMs: number): number {
  return performance.timeOrigin + perfMs;
}

/**
 * One stream's span (docs/observability.md, the attribute table): started at `stream_start`,
 * ended after `stream_end`. Its events are written at its end with the times the stream kept
 * (first token, abort, upstream close, engine verdict), so the token path never touches it.
 */
export class OtelStreamSpan implements StreamSpan {
  readonly headers: TraceHeaders | undefined;
  private readonly lookups: Array<Promise<void>> = [];

  constructor(
    private readonly span: Span,
    private readonly contexts: SpanContexts,
    private readonly where: (stream: ChatStream) => Attributes,
  ) {
    const context = span.spanContext();
    this.headers = headersOf(context);
  }

  supersedes(streamIds: string[]): void {
    if (streamIds.length === 0) return;
    this.span.setAttribute('jarvis.superseded_stream_ids', streamIds);
    for (const id of streamIds) this.linkTo(id, 'superseded');
  }

  /** Links to `streamId`'s span once it is found (here, or in the cluster's Redis). */
  linkTo(streamId: string, relation: string): void {
    this.lookups.push(
      this.contexts.find(streamId).then(
        (context: SpanContext | undefined) => {
          if (context) this.span.addLink({ context, attributes: { 'jarvis.link': relation, 'jarvis.stream.id': streamId } });
        },
        () => {},
      ),
    );
  }

  end(stream: ChatStream): void {
    try {
      const endAt = epoch(performance.now());
      this.describe(stream);
      if (this.lookups.length === 0) return this.span.end(endAt);
      // A link still being looked up (Redis) is waited for, bounded; the span keeps its end time.
      void Promise.race([Promise.allSettled(this.lookups), new Promise((resolve) => setTimeout(resolve, LINK_WAIT_MS).unref())]).then(() => this.span.end(endAt));
    } catch {
      // Tracing never breaks a stream.
    }
  }

  private describe(stream: ChatStream): void {
    const { span } = this;
    const outcome = stream.outcome;
    const reason = outcome?.kind === 'done' ? 'done' : outcome?.kind === 'cancelled' ? outcome.reason : 'error';
    const attributes: Attributes = {
      'jarvis.outcome': reason,
      'jarvis.tokens': stream.tokens,
      'gen_ai.usage.output_tokens': outcome?.kind === 'done' ? outcome.usage.completion_tokens : stream.tokens,
      ...this.where(stream),
    };
    if (outcome?.kind === 'done') {
      attributes['gen_ai.response.finish_reasons'] = [outcome.reason];
      if (outcome.usage.prompt_tokens > 0) attributes['gen_ai.usage.input_tokens'] = outcome.usage.prompt_tokens;
    }
    if (stream.upstream) attributes['jarvis.upstream'] = stream.upstream;
    if (stream.firstTokenMs !== undefined) {
      attributes['jarvis.ttft_ms'] = Math.round(stream.firstTokenMs);
      span.addEvent('first_token', { 'jarvis.ttft_ms': Math.round(stream.firstTokenMs) }, epoch(stream.startedMs + stream.firstTokenMs));
    }
    const abortedAt = stream.abortedAt;
    if (abortedAt !== undefined) {
      const why = outcome?.kind === 'cancelled' ? outcome.reason : outcome?.kind === 'error' ? outcome.code : (outcome?.reason ?? 'unknown');
      span.addEvent('cancel_requested', { 'jarvis.cancel.reason': why }, epoch(abortedAt));
    }
    const close = stream.upstreamClose;
    if (close) {
      attributes['jarvis.upstream_close'] = close.outcome;
      attributes['jarvis.upstream_close_ms'] = Math.round(close.ms);
      // An event when Jarvis asked it to stop (Stop → upstream closed is the figure that matters); a completed reply's close is only an attribute.
      if (abortedAt !== undefined) span.addEvent('upstream_closed', { 'jarvis.upstream_close': close.outcome, 'jarvis.upstream_close_ms': Math.round(close.ms) }, epoch(abortedAt + close.ms));
    }
    const verdict = stream.cancelVerdict;
    if (verdict) {
      attributes['jarvis.cancel.verdict'] = verdict.verdict;
      attributes['jarvis.cancel.ms'] = Math.round(verdict.ms);
      attributes['jarvis.cancel.how'] = verdict.how;
      const fields: Attributes = { 'jarvis.cancel.verdict': verdict.verdict, 'jarvis.cancel.ms': Math.round(verdict.ms), 'jarvis.cancel.how': verdict.how };
      if (verdict.slot !== undefined) fields['jarvis.cancel.slot'] = verdict.slot;
      span.addEvent(verdict.verdict === 'confirmed' ? 'engine_confirmed' : 'engine_unconfirmed', fields, epoch((abortedAt ?? performance.now()) + verdict.ms));
    }
    span.setAttributes(attributes);
    if (outcome?.kind === 'error') {
      span.setAttribute('error.type', outcome.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.code}: ${outcome.message}` });
    }
  }
}
