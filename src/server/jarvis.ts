import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { watchAuto } from '../backends/autoWatch.js';
import { selectBackend, type SelectedBackend } from '../backends/select.js';
import { selectUpstreams } from '../backends/routing/selectUpstreams.js';
import { SystemLog } from '../log/systemLog.js';
import { StreamRegistry } from '../streams/registry.js';
import { LocalCoordinator } from '../streams/coordinator.js';
import { openCluster } from '../streams/cluster/openCluster.js';
import { OpsRelay } from '../streams/cluster/opsRelay.js';
import { clusterRoutingState } from '../streams/cluster/upstreams/clusterRouting.js';
import { MemoryEventLog } from '../streams/eventLog/memoryEventLog.js';
import { AnswerRecorder } from '../store/answers/answerRecorder.js';
import { finishGoneFromLog, notFollowed, sweepUnfinishedEvery } from '../store/faults/answerSweep.js';
import { StoreHealth } from '../store/faults/health.js';
import { openStore, sweepAnswersEvery } from '../store/select.js';
import { ConversationFeed } from './conversations/feed.js';
import type { StreamMetrics } from '../streams/streamMetrics.js';
import { exposureWarnings } from './http/guards/exposure.js';
import { isLoopbackBind } from './http/guards/hosts.js';
import { openKeys } from './auth/openKeys.js';
import { PromMetrics } from './operations/metrics.js';
import { buildApp } from './app.js';
import { OpsHub } from './ops/hub.js';
import { ImageFetcher } from './images/imageFetcher.js';
import type { JarvisContext } from './context.js';
import { StreamStarter } from './streaming/starter.js';
import { UsageRecorder } from './usage/recorder.js';
import { MemoryLimiter } from './limits/memoryLimiter.js';
import { RedisLimiter } from './limits/redisLimiter.js';
import { openTracing, upstreamUrlOf } from '../tracing/open.js';
import type { Tracing } from '../tracing/types.js';

/**
 * Connections the kernel may hold completed for Jarvis to accept. Node's default
 * (511) overflows when one client opens thousands of streams at once: the kernel
 * drops the extra SYNs and the clients retry 1, 3, 7 s later, so the starts arrive
 * in waves long after they were sent. Linux caps it at net.core.somaxconn (4096 on
 * current kernels; 128 before 5.4).
 */
const LISTEN_BACKLOG = 4096;

export interface RunningJarvis {
  app: FastifyInstance;
  ctx: JarvisContext;
  url: string;
  /** Graceful shutdown: cancels every stream (`shutdown`), waits for their ends, closes. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Use this backend instead of selecting one from the configuration. */
  backend?: SelectedBackend;
  metrics?: StreamMetrics;
}

export async function startJarvis(config: Config, options: StartOptions = {}): Promise<RunningJarvis> {
  // A non-loopback HOST without keys is refused (ConfigError) before anything is opened, unless
  // stored keys may turn authentication on: then once the store is open and they are counted.
  const checkedEarly = config.apiKeys.length > 0 || config.trustedUsers !== undefined || isLoopbackBind(config.host) || config.allowNoAuth;
  const warnings = checkedEarly ? exposureWarnings(config) : [];
  const log = new SystemLog({ file: config.logFile, level: config.logLevel, stdout: config.logStdout, retryMs: config.logRetryMs, instance: config.redisUrl ? config.instanceId : undefined });
  const metrics = options.metrics ?? new PromMetrics(config.redisUrl ? { instance: config.instanceId } : {});
  if (metrics instanceof PromMetrics) metrics.watchLog(log);
  // The live timeline's feed taps the log from its first line (docs/observability.md "The feed").
  const ops = new OpsHub({ ...config.ops, onCut: (client, behind) => log.warn('ops_reader_cut', { client, behind, retain_records: config.ops.retainRecords }) });
  log.tap((record) => ops.add(record));
  const local = new StreamRegistry(log, config.cancelTimeoutMs, metrics);
  const memoryLog = new MemoryEventLog({ retentionMs: config.streamRetentionMs, maxTotalChars: config.streamLogMaxChars, keyShareChars: config.streamLogKeyShareChars });
  // One process needs nothing else; with REDIS_URL the session rules and the stream logs are the cluster's.
  const cluster = config.redisUrl
    ? await openCluster(
        {
          redisUrl: config.redisUrl,
          redisTimeoutMs: config.redisTimeoutMs,
          instanceId: config.instanceId,
          leaseMs: config.leaseMs,
          retentionMs: config.streamRetentionMs,
          cancelTimeoutMs: config.cancelTimeoutMs,
          maxLogEntries: Math.max(100_000, config.limits.maxTokensDefault * 4),
        },
        log,
        local,
        memoryLog,
        metrics,
      )
    : undefined;
  // Several model servers (JARVIS_UPSTREAMS, docs/upstreams.md) are one routed backend; else the one of JARVIS_BACKEND.
  // In a cluster their slots, queues, health and affinity are the cluster's (docs/upstreams.md "Across instances").
  // Start-up failed once the cluster was open: what was opened is closed again, the error rethrown.
  const abandon = async (err: unknown, backend?: SelectedBackend): Promise<never> => {
    if (backend && !options.backend) await backend.backend.close?.().catch(() => {});
    if (cluster) {
      await cluster.coordinator.close();
      await cluster.streamLog.close();
    }
    await log.close();
    throw err;
  };
  let selected: SelectedBackend;
  try {
    const routing = !options.backend && cluster && config.upstreams ? clusterRoutingState(cluster.redis, config.upstreams, log, { instance: config.instanceId, leaseMs: config.leaseMs }) : undefined;
    selected = options.backend ?? (config.upstreams ? await selectUpstreams(config, config.upstreams, log, routing) : await selectBackend(config, log));
  } catch (err) {
    return abandon(err);
  }
  // OpenTelemetry traces, when configured: the SDK is imported now, and only then (docs/observability.md).
  let tracing: Tracing | undefined;
  try {
    if (config.tracing) {
      tracing = await openTracing(config.tracing, {
        log,
        instance: config.redisUrl ? config.instanceId : undefined,
        redis: cluster?.redis,
        retentionMs: config.streamRetentionMs,
        upstreamUrl: upstreamUrlOf(config),
      });
    }
  } catch (err) {
    return abandon(err, selected);
  }
  if (tracing && metrics instanceof PromMetrics) metrics.watchTracing(tracing);
  for (const notReady of selected.notReady ?? []) {
    warnings.push(notReady);
    log.warn('backend_not_ready', { backend: selected.backend.name, error: notReady });
  }
  // In a cluster the answers' sweep asks Redis which other instances are gone (and leaves the answers this one finishes from their log).
  const late: { answers?: AnswerRecorder } = {};
  const ownerGone = cluster?.coordinator.ownerGone.bind(cluster.coordinator);
  const sweep = cluster && ownerGone ? { instance: config.instanceId, ownerGone: notFollowed(ownerGone, () => late.answers) } : undefined;
  let store;
  const storeHealth = new StoreHealth(log);
  try {
    store = await openStore(config, log, sweep, storeHealth);
  } catch (err) {
    // The backend chosen is closed too (a routed one's probes, an in-process engine).
    return abandon(err, selected);
  }
  const registry = cluster?.coordinator ?? new LocalCoordinator(local);
  // The stored keys, read before the first request; a revoked key's streams end `revoked` (docs/team.md "3. Keys").
  let keys;
  try {
    keys = await openKeys({ config, log, store, registry, redis: cluster?.redis, trustedUserHeader: config.trustedUsers?.header });
    if (!checkedEarly) warnings.push(...exposureWarnings(config, keys.auth.on()));
  } catch (err) {
    keys?.close();
    await store.close().catch(() => {});
    return abandon(err, selected);
  }
  const streamLog = cluster?.streamLog ?? memoryLog;
  // The usage record, and the limits per key that start each day's count from it (docs/team.md "Usage and limits").
  const usage = new UsageRecorder(store.usage, log);
  const daySeed = async (day: string, keyId: string) => (await store.usage.tokensOn(day, keyId)) + usage.pendingTokens(day, keyId);
  const limiter = cluster ? new RedisLimiter(cluster.redis, { instance: config.instanceId, leaseMs: config.leaseMs }, daySeed, log) : new MemoryLimiter(daySeed, log);
  const shared: Omit<JarvisContext, 'starter'> = {
    config,
    log,
    metrics,
    registry,
    backend: selected.backend,
    defaultModel: selected.defaultModel,
    startedAt: Date.now(),
    shuttingDown: false,
    warnings,
    images: new ImageFetcher(config.images, log),
    streamLog,
    store,
    keys: keys.directory,
    auth: keys.auth,
    answers: new AnswerRecorder(store, streamLog, log, { retryMs: config.storeRetryMs, health: storeHealth }),
    usage,
    limiter,
    ops,
    conversationFeed: new ConversationFeed((owner, dropped) =>
      log.warn('conversation_followers_dropped', { key: owner || undefined, dropped, max_buffer_bytes: config.limits.followerBufferBytes }),
    ),
    ...(cluster ? { clusterStreams: () => cluster.coordinator.clusterStreams() } : {}),
    ...(tracing ? { tracing } : {}),
  };
  // The starter reads `shuttingDown` at each start: it is given the one shared object.
  const ctx: JarvisContext = Object.assign(shared, { starter: new StreamStarter(shared) });
  ctx.answers.onEnded = (answer, state) =>
    ctx.conversationFeed.publish(answer.owner, { type: 'answer_ended', conversation_id: answer.conversationId, message_id: answer.messageId, stream_id: answer.streamId, state });
  late.answers = ctx.answers;
  // Every instance finishes its own answers left streaming after their stream ended (store/faults/answerSweep.ts).
  const sweepDeps = { store, answers: ctx.answers, events: streamLog, isLive: (id: string) => local.get(id) !== undefined, log };
  const stopUnfinished = sweepUnfinishedEvery({ ...sweepDeps, instance: cluster ? config.instanceId : null }, config.answerSweepMs);
  const stopSweep =
    sweep && ownerGone
      ? sweepAnswersEvery(store, sweep, log, Math.max(5000, 5 * config.leaseMs), () => finishGoneFromLog({ ...sweepDeps, instance: config.instanceId }, ownerGone))
      : undefined;
  for (const warning of warnings) log.warn('security_warning', { warning });
  // auto mode on a fallback (the demo): switch as soon as a kind before it answers.
  const watch = options.backend || config.upstreams
    ? undefined
    : watchAuto(config, log, ctx.backend, (found) => {
        // The one left frees what it holds once its streams have ended (an in-process engine's models).
        void ctx.backend.retire?.().catch(() => {});
        ctx.backend = found.backend;
        ctx.defaultModel = found.defaultModel;
      }, config.backendProbeMs);
  const app = buildApp(ctx);
  try {
    await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
  } catch (err) {
    watch?.stop();
    stopSweep?.();
    stopUnfinished();
    keys.close();
    log.error('server_listen_failed', { host: config.host, port: config.port, error: err instanceof Error ? err.message : String(err) });
    await store.close();
    await log.close();
    throw err;
  }
  // Cluster mode: this instance's records go to the others' feeds, and theirs come to this one's.
  const relay = cluster
    ? new OpsRelay(cluster.redis, { instance: config.instanceId, onFailing: (error) => log.warn('ops_records_dropped', { error }) }, (from, batch) => ops.addRemote(from, batch))
    : undefined;
  if (relay) ops.publishTo(relay);
  if (metrics instanceof PromMetrics) metrics.watchOps(ops, relay);
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log.info('server_listening', {
    url,
    backend: ctx.backend.name,
    model: ctx.defaultModel,
    log_file: config.logFile,
    cluster: config.redisUrl ? 'redis' : undefined,
    auth: config.apiKeys.length > 0 ? `${config.apiKeys.length}_keys` : keys.directory.activeCount() > 0 ? `${keys.directory.activeCount()}_stored_keys` : 'none',
    trusted_user_header: config.trustedUsers?.headerLabel,
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    watch?.stop();
    stopSweep?.();
    stopUnfinished();
    keys.close();
    return (closing ??= shutdown(ctx, app, relay));
  };
  return { app, ctx, url, close };
}

async function shutdown(ctx: JarvisContext, app: FastifyInstance, relay: OpsRelay | undefined): Promise<void> {
  const { log, registry, config } = ctx;
  ctx.shuttingDown = true;
  // Followers of the conversation feed end now; they would hold the server's close open.
  ctx.conversationFeed.close();
  const streams = registry.cancelAll('shutdown');
  log.info('shutdown_start', { active_streams: streams.length });
  const allEnded = Promise.all(streams.map((s) => s.finished)).then(() => true);
  // Half the grace for upstreams to acknowledge the abort, then cut them off.
  let ended = await within(allEnded, config.shutdownGraceMs / 2);
  if (!ended) {
    for (const stream of registry.list()) stream.kill('shutdown');
    ended = await within(allEnded, config.shutdownGraceMs / 2);
  }
  if (!ended) log.warn('shutdown_streams_unfinished', { streams: registry.list().map((s) => s.id).join(',') });
  // An in-process engine frees its models once its streams have ended (bounded by the same grace).
  if (ctx.backend.close && !(await within(ctx.backend.close().then(() => true), config.shutdownGraceMs / 2))) log.warn('shutdown_backend_unclosed', { backend: ctx.backend.name });
  // Streaming answers were cancelled as `shutdown`: their last writes store them so.
  if (!(await within(ctx.answers.settled().then(() => true), config.shutdownGraceMs / 2))) {
    log.warn('shutdown_answers_unstored', { answers: ctx.answers.active });
  }
  ctx.answers.close();
  // Every stream has ended: the usage they recorded is written before the store closes.
  await ctx.limiter.close();
  if (!(await within(ctx.usage.close().then(() => true), config.shutdownGraceMs / 2))) log.warn('shutdown_usage_unstored', {});
  // Responses have ended; a client's connection that never sent a request would
  // still hold `close` open, so such stragglers are cut after a short wait.
  // The ops feed's readers have seen every stream end; their responses end now (they would hold `close` open).
  ctx.ops.close();
  relay?.close();
  const straggler = setTimeout(() => app.server.closeAllConnections(), 300);
  await app.close();
  clearTimeout(straggler);
  // Every request and stream span has ended: what is queued is exported, bounded (a collector down costs at most this).
  await ctx.tracing?.shutdown(config.shutdownGraceMs / 2);
  await ctx.registry.close();
  await ctx.streamLog.close();
  await ctx.store.close().catch((err: unknown) => log.warn('store_close_failed', { error: err instanceof Error ? err.message : String(err) }));
  log.info('shutdown_complete', { clean: ended });
  await log.close();
}

function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)))]).finally(() => clearTimeout(timer));
}
