import type { FastifyRequest } from 'fastify';
import type { Backend, BackendRequest } from '../../backends/types.js';
import { estimateInputTokens } from '../../backends/promptEstimate.js';
import type { Config } from '../../config.js';
import type { SystemLog } from '../../log/systemLog.js';
import { newStreamId, type ChatStream } from '../../streams/chatStream.js';
import type { SessionCoordinator } from '../../streams/coordinator.js';
import { FenceClock } from '../../streams/eventLog/fence.js';
import type { StreamEventLog } from '../../streams/eventLog/types.js';
import type { EventWriter } from '../../streams/eventWriter.js';
import { runStream, type RunStreamDeps, type StreamRunHooks } from '../../streams/runStream.js';
import { cancelWhenClientGoes } from './clientWatch.js';
import type { ServerResponse } from 'node:http';
import { StartPacer } from '../../streams/startPacer.js';
import type { StreamMetrics } from '../../streams/streamMetrics.js';
import type { StreamTiming } from '../../streams/streamTiming.js';
import { HttpError, httpError } from '../errors.js';
import { clientKeyOf } from '../http/guards/clientKey.js';
import { principalOf } from '../http/guards/principal.js';
import { StreamCaps } from '../http/guards/streamCaps.js';
import { openLoggedStream } from './loggedStream.js';
import type { AuthSwitch } from '../auth/authSwitch.js';
import { perClientShares } from '../fairShare/perClientShares.js';
import { effectiveLimits, today, UNLIMITED, type LimitGrant, type Limiter } from '../limits/limiter.js';
import type { UsageRecorder } from '../usage/recorder.js';
import { streamUsage } from '../usage/streamUsage.js';
import { budgetWords } from '../../shared/team/keyLimits.js';
import type { LengthLimit } from '../../streams/terminalEvent.js';
import type { Tracing } from '../../tracing/types.js';

/**
 * How many streams may open their upstream per event-loop turn. Each costs about
 * a millisecond (connect, write); 8 keeps a turn near 10 ms under any burst.
 */
const STARTS_PER_TURN = 8;

/**
 * What starting a stream reads (the JarvisContext fields of these names; not imported
 * from context.ts, which holds the starter). `shuttingDown` is read at each start, so
 * the starter is given the shared context object itself.
 */
export interface StarterContext {
  readonly config: Config;
  readonly log: SystemLog;
  readonly registry: SessionCoordinator;
  readonly metrics: StreamMetrics;
  readonly streamLog: StreamEventLog;
  readonly shuttingDown: boolean;
  /** Each model request's end is recorded here (docs/team.md "Usage and limits"). */
  readonly usage: UsageRecorder;
  /** Each model request's start is checked here against its key's limits. */
  readonly limiter: Limiter;
  /** How many callers may share Jarvis now: a client's share of the streams follows it. */
  readonly auth: Pick<AuthSwitch, 'callers'>;
  /** OpenTelemetry traces, when on: each stream's span, a child of its request's. */
  readonly tracing?: Tracing;
}

/** A stream let in: its ids and its place under the caps. */
export interface Admission {
  streamId: string;
  sessionId: string;
  owner: string;
  /** Its writes' fence (the event log's and the stored answer's): newer than every stream's before it. */
  fence: bigint;
  /** The caller's keyId (principal.ts; '' without keys): what its usage is recorded under (docs/team.md "Usage and limits") and what revoking a key ends. */
  keyId: string;
  keyName: string;
  /** Tokens its key may still use today (tokens_per_day); undefined: no daily bound. */
  tokensLeft: number | undefined;
  /** The day's budget (tokens_per_day), when its key has one: the words of an answer cut at it. */
  tokensPerDay: number | undefined;
  /** The request's span (tracing on), the parent of the stream's; opaque here. */
  traceParent?: unknown;
  /** Frees its place under the caps and the key's limits (a method: call it on the admission). `run` frees it when the stream ends: call it only for a stream that will not run. */
  release(): void;
  /** `release`, counting the tokens the stream used against its key's limits (`run` calls it). */
  end(tokens: number): void;
}

/** What the stream runs: the protocol's part. */
export interface StreamRun {
  model: string;
  /** The backend read once when the request came (auto mode may switch it meanwhile). */
  backend: Backend;
  request: BackendRequest;
  /** The OpenAI `user` field: only logged (it names no session). */
  user?: string;
  /** The response that reads the stream directly, if any (see LogWriterOptions.primary). */
  primary?: EventWriter;
  /** The request's timing (its `Server-Timing`), when a request is being answered. */
  timing?: StreamTiming;
  /** The response whose client going away cancels the stream (`client_closed`), watched from `stream_start`. */
  client?: ServerResponse;
}

/**
 * The one way a stream starts, whatever route or protocol asks (docs/architecture.md):
 * refused while shutting down or while the cluster is unavailable, admitted under the
 * stream caps (JARVIS_MAX_STREAMS…), given its stream id and fence, logged to the
 * event log (so any reader can follow it at `/v1/streams/{id}/events`), and run by
 * runStream under the session rules. A new protocol brings its writer and its route.
 */
export class StreamStarter {
  /** JARVIS_MAX_STREAMS and the per-client cap. */
  readonly caps: StreamCaps;
  private readonly pacer = new StartPacer(STARTS_PER_TURN);
  private readonly fences = new FenceClock();
  private shared: RunStreamDeps | undefined;

  constructor(private readonly ctx: StarterContext) {
    this.caps = new StreamCaps(ctx.config.limits, ctx.registry, perClientShares(ctx.config.limits, () => ctx.auth.callers()).streams);
  }

  /** A 503 while no stream may start: shutdown has begun, or the cluster cannot be reached. */
  refuseIfClosed(): void {
    if (this.ctx.shuttingDown) throw httpError('shutting_down');
    const down = this.ctx.registry.unavailable();
    if (down) throw new HttpError('cluster_unavailable', down);
  }

  /**
   * Lets a stream of `owner`'s session in, or throws (503, or a plain 429 over a cap or its key's limits): before the response is taken over.
   * `streamId`: a new one (newStreamId) the caller made first, when it names something after it (a background response).
   */
  async admit(request: FastifyRequest, owner: string, sessionId: string, streamId: string = newStreamId()): Promise<Admission> {
    this.refuseIfClosed();
    const caller = principalOf(request);
    const limits = effectiveLimits(caller, this.ctx.config.defaultLimits);
    const freeCaps = this.caps.admit(clientKeyOf(request), owner, sessionId);
    // Then the key's limits (a cluster asks Redis): a request the caps refused is not counted against them.
    let grant = UNLIMITED;
    try {
      if (limits) grant = await this.ctx.limiter.admit(caller!.keyId, limits, streamId);
      this.refuseIfClosed();
    } catch (err) {
      grant.end(0);
      freeCaps();
      throw err;
    }
    return new AdmittedStream(
      { streamId, sessionId, owner, fence: this.fences.next(), keyId: caller?.keyId ?? '', keyName: caller?.keyName ?? '', tokensLeft: grant.tokensLeft, tokensPerDay: limits?.tokens_per_day, traceParent: this.ctx.tracing?.parentOf(request) },
      freeCaps,
      grant,
    );
  }

  /**
   * Opens the admitted stream on the event log and runs it to its one end (`done`
   * never rejects: runStream's finally ends every stream), then frees its place.
   */
  run(admission: Admission, spec: StreamRun): { stream: ChatStream; done: Promise<void> } {
    const { ctx } = this;
    const { request, lengthLimit } = this.capped(admission, spec.request);
    const stream = openLoggedStream(ctx, {
      streamId: admission.streamId,
      sessionId: admission.sessionId,
      owner: admission.owner,
      keyId: admission.keyId,
      fence: admission.fence,
      model: spec.model,
      user: spec.user,
      primary: spec.primary,
      timing: spec.timing,
      lengthLimit,
    });
    const done = runStream(stream, request, this.deps(), new StartedRun(this, admission, spec.backend, spec.model, request, spec.client));
    return { stream, done };
  }

  /** What every stream runs with: one object for them all (the context's fields are set once, at start). */
  private deps(): RunStreamDeps {
    const { ctx } = this;
    return (this.shared ??= {
      registry: ctx.registry,
      log: ctx.log,
      firstTokenTimeoutMs: ctx.config.firstTokenTimeoutMs,
      metrics: ctx.metrics,
      pacer: this.pacer,
      limits: ctx.config.limits,
      tracer: ctx.tracing,
    });
  }

  /**
   * The request with its max_tokens lowered to what its key may still use today
   * (tokens_per_day), less its prompt's estimate: the model stops there by itself, and
   * the stream ends `length` naming the limit. Nothing is counted per token.
   */
  private capped(admission: Admission, request: BackendRequest): { request: BackendRequest; lengthLimit?: LengthLimit } {
    const { tokensLeft, tokensPerDay } = admission;
    if (tokensLeft === undefined || tokensPerDay === undefined) return { request };
    const cap = Math.max(1, tokensLeft - estimateInputTokens(request));
    const own = request.maxTokens ?? this.ctx.config.limits.maxTokensDefault;
    if (cap >= own) return { request };
    return { request: { ...request, maxTokens: cap }, lengthLimit: { maxTokens: cap, name: 'tokens_per_day', message: budgetWords(tokensPerDay) } };
  }

  /** Records the ended stream's usage (off its path: the recorder writes in batches); returns its tokens, for the key's limits. */
  recordUsage(admission: Admission, stream: ChatStream, model: string, request: BackendRequest): number {
    const used = streamUsage(stream, request);
    this.ctx.usage.record({
      day: today(),
      owner: admission.owner,
      keyId: admission.keyId,
      keyName: admission.keyName,
      model,
      requests: 1,
      promptTokens: used.promptTokens,
      completionTokens: used.completionTokens,
      streamMs: performance.now() - stream.startedMs,
      reported: used.reported ? 1 : 0,
      counted: used.reported ? 0 : 1,
    });
    return used.promptTokens + used.completionTokens;
  }
}

type AdmissionFields = Omit<Admission, 'release' | 'end'>;

/**
 * An admitted stream (Admission). A stream holds it for its whole life, so it is
 * one object whose `release` and `end` are methods, not closures (docs/benchmark.md "Scale").
 */
class AdmittedStream implements Admission {
  readonly streamId: string;
  readonly sessionId: string;
  readonly owner: string;
  readonly fence: bigint;
  readonly keyId: string;
  readonly keyName: string;
  readonly tokensLeft: number | undefined;
  readonly tokensPerDay: number | undefined;
  readonly traceParent?: unknown;

  constructor(
    fields: AdmissionFields,
    private readonly freeCaps: () => void,
    private readonly grant: LimitGrant,
  ) {
    this.streamId = fields.streamId;
    this.sessionId = fields.sessionId;
    this.owner = fields.owner;
    this.fence = fields.fence;
    this.keyId = fields.keyId;
    this.keyName = fields.keyName;
    this.tokensLeft = fields.tokensLeft;
    this.tokensPerDay = fields.tokensPerDay;
    this.traceParent = fields.traceParent;
  }

  release(): void {
    this.end(0);
  }

  end(tokens: number): void {
    this.freeCaps();
    this.grant.end(tokens);
  }
}

/** One running stream's own part (StreamRunHooks): its backend, its client, and what its end records. */
class StartedRun implements StreamRunHooks {
  constructor(
    private readonly starter: StreamStarter,
    private readonly admission: Admission,
    readonly backend: Backend,
    private readonly model: string,
    private readonly request: BackendRequest,
    private readonly client: ServerResponse | undefined,
  ) {}

  get traceParent(): unknown {
    return this.admission.traceParent;
  }

  onStart(stream: ChatStream): void {
    if (this.client) cancelWhenClientGoes(stream, this.client);
  }

  onEnd(stream: ChatStream): void {
    this.admission.end(this.starter.recordUsage(this.admission, stream, this.model, this.request));
  }
}
