import type { Config } from '../config.js';
import type { Backend } from '../backends/types.js';
import type { SystemLog } from '../log/systemLog.js';
import type { SessionCoordinator } from '../streams/coordinator.js';
import type { ClusterStreamRow } from '../streams/cluster/clusterQueries.js';
import type { StreamMetrics } from '../streams/streamMetrics.js';
import type { StreamEventLog } from '../streams/eventLog/types.js';
import type { AnswerRecorder } from '../store/answers/answerRecorder.js';
import type { ConversationStore } from '../store/types.js';
import type { AuthSwitch } from './auth/authSwitch.js';
import type { KeyDirectory } from './auth/keyDirectory.js';
import type { ConversationFeed } from './conversations/feed.js';
import type { ImageFetcher } from './images/imageFetcher.js';
import type { OpsHub } from './ops/hub.js';
import type { StreamStarter } from './streaming/starter.js';
import type { Limiter } from './limits/limiter.js';
import type { UsageRecorder } from './usage/recorder.js';
import type { Tracing } from '../tracing/types.js';

/**
 * What the server's parts share: one per running server. No route takes all of it:
 * each takes the fields it uses (a `Pick` of this, named next to the route), and
 * the fields that change at run time are read through the one object.
 */
export interface JarvisContext {
  config: Config;
  log: SystemLog;
  /** The session rules: this process's (LocalCoordinator) or the cluster's (RedisCoordinator). */
  registry: SessionCoordinator;
  /**
   * Changes at run time in auto mode (demo → Ollama once it answers): read it
   * once per request and keep that value for the request's whole life.
   */
  backend: Backend;
  /** JARVIS_MODEL, else the backend's first model; looked up again while unknown; follows `backend`. */
  defaultModel: string | undefined;
  startedAt: number;
  /** Set when shutdown begins: no new stream may start after the streams were cancelled. */
  shuttingDown: boolean;
  metrics: StreamMetrics;
  /** What the operator should know about this configuration (exposure without keys, `*` lists): logged, in `/health`, in the UI. */
  warnings: string[];
  /** The one way a stream starts: admission, ids, fence, event log, run (streaming/starter.ts). */
  starter: StreamStarter;
  /** The images of chat requests: their bounds, and the fetching of http(s) ones. */
  images: ImageFetcher;
  // Conversations and resume (docs/conversations.md).
  /** Every stream's events, for readers that attach, drop and reattach. */
  streamLog: StreamEventLog;
  store: ConversationStore;
  /** Stores conversation answers as they stream. */
  answers: AnswerRecorder;
  /** Conversation changes, for the clients that follow them. */
  conversationFeed: ConversationFeed;
  /** The stored keys, as this instance knows them (docs/team.md "3. Keys"). */
  keys: KeyDirectory;
  /** Whether callers need a key now: environment keys, stored keys, trusted users. */
  auth: AuthSwitch;
  /** The usage record's writer: each model request's end (docs/team.md "Usage and limits"). */
  usage: UsageRecorder;
  /** The limits per key: in memory for one process, in Redis for a cluster. */
  limiter: Limiter;
  /** The live timeline's feed: the recent lifecycle records, and who follows them (docs/observability.md "The feed"). */
  ops: OpsHub;
  /** Cluster mode (REDIS_URL): every instance's live streams, for `/debug/streams` with an admin key. */
  clusterStreams?: () => Promise<ClusterStreamRow[]>;
  /** OpenTelemetry traces (docs/observability.md); undefined when off, and then no tracing code runs. */
  tracing?: Tracing;
}
