import type { Config } from '../config.js';
import type { Backend } from '../backends/types.js';
import type { SystemLog } from '../log/systemLog.js';
import type { SessionCoordinator } from '../streams/coordinator.js';
import type { RedisCoordinator } from '../streams/cluster/redisCoordinator.js';
import type { StartPacer } from '../streams/startPacer.js';
import type { StreamCaps } from './guards/streamCaps.js';
import type { ClientCap } from './fairShare/clientCap.js';
import type { StreamMetrics } from '../streams/streamMetrics.js';
import type { FenceClock } from '../streams/eventLog/fence.js';
import type { StreamEventLog } from '../streams/eventLog/types.js';
import type { AnswerRecorder } from '../store/answerRecorder.js';
import type { ConversationStore } from '../store/types.js';
import type { ConversationFeed } from './conversationFeed.js';
import type { ImageFetcher } from './images/imageFetcher.js';

/** What the routes share: one per running server. */
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
  pacer: StartPacer;
  /** JARVIS_MAX_STREAMS and the per-client cap. */
  caps: StreamCaps;
  /** The images of chat requests: their bounds, and the fetching of http(s) ones. */
  images: ImageFetcher;
  // Conversations and resume (README "Conversations kept on the server").
  /** Every stream's events, for readers that attach, drop and reattach. */
  streamLog: StreamEventLog;
  fences: FenceClock;
  store: ConversationStore;
  /** Stores conversation answers as they stream. */
  answers: AnswerRecorder;
  /** Conversation changes, for the clients that follow them. */
  conversationFeed: ConversationFeed;
  /** JARVIS_MAX_FOLLOWERS_PER_CLIENT: the feed's followers per client. */
  followers: ClientCap;
  /** JARVIS_MAX_READERS_PER_CLIENT: reattach readers per client. */
  readers: ClientCap;
  /** Cluster mode (REDIS_URL): the same object as `registry`, for what only a cluster has. */
  cluster?: RedisCoordinator;
}
