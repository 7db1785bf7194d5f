import type { SystemLog } from '../../log/systemLog.js';
import type { StreamEventLog } from '../../streams/eventLog/types.js';
import type { AnswerRecorder } from '../answers/answerRecorder.js';
import { StoreError, type ConversationStore } from '../types.js';

/** Answers looked at per sweep (the next sweep takes the rest). */
const SWEEP_BATCH = 200;
/** An answer written within this is never swept: it has just been stored and its recorder is about to follow it. */
const MAX_QUIET_MS = 30_000;

export interface AnswerSweepDeps {
  store: ConversationStore;
  answers: AnswerRecorder;
  events: StreamEventLog;
  /** Whether a stream is live in this process. */
  isLive(streamId: string): boolean;
  log: SystemLog;
  /** Cluster mode: this instance's id (it sweeps its own answers; sweepAnswersEvery takes those of instances that are gone). Null: one process, every answer. */
  instance: string | null;
}

/** Cluster mode: which answers of other instances nobody can write any more (RedisCoordinator.ownerGone). */
export type OwnerGone = (answers: Array<{ streamId: string | null; instance: string | null }>) => Promise<boolean[]>;

/**
 * The running instance's own answers left `streaming` that nothing will write any
 * more: their recorder ended (its final write gave up after JARVIS_STORE_RETRY_MS,
 * or failed before) and their stream is no longer live here. Each one is finished
 * from its stream's log when the log still has the terminal event (the whole
 * answer, as every reader got it: the recorder follows the ended log once more),
 * else set `interrupted` with the text it has. Without it such an answer showed as
 * streaming for as long as the instance lived (the start-up sweep runs only at
 * start-up). Returns how many it finished and interrupted.
 */
export async function sweepUnfinished(deps: AnswerSweepDeps, quietMs: number): Promise<{ finished: number; interrupted: number }> {
  const { store, answers, events } = deps;
  const candidates = await store.unfinishedAnswers({ instances: deps.instance === null ? 'all' : { only: deps.instance }, updatedBefore: Date.now() - quietMs, limit: SWEEP_BATCH });
  let finished = 0;
  const lost: string[] = [];
  for (const c of candidates) {
    if (answers.has(c.messageId)) continue;
    if (c.streamId === null) {
      lost.push(c.messageId);
      continue;
    }
    if (deps.isLive(c.streamId)) continue;
    // A log that cannot be asked now (Redis down: reported by the coordinator) is asked again by the next sweep.
    const info = await Promise.resolve(events.info(c.streamId)).catch(() => 'unknown' as const);
    if (info === 'unknown') continue;
    if (info?.terminal) {
      answers.record({ owner: c.owner, conversationId: c.conversationId, messageId: c.messageId, streamId: c.streamId, fence: c.fence, startedMs: performance.now(), recovered: true });
      finished++;
    } else lost.push(c.messageId);
  }
  const interrupted = await store.interruptAnswers(lost);
  return { finished, interrupted };
}

/**
 * Cluster mode, before the sweep that sets the answers of instances that are gone
 * `interrupted` (sweepAnswersEvery): those whose stream ended (its log, in Redis,
 * has the terminal its instance wrote) are finished from it here instead, whole — an instance that
 * died while its final writes waited for the store loses none of them. What this
 * instance then records, that sweep leaves alone (`ownerGone` below answers false).
 * Returns how many it took.
 */
export async function finishGoneFromLog(deps: AnswerSweepDeps & { instance: string }, ownerGone: OwnerGone): Promise<number> {
  const { store, answers, events } = deps;
  const candidates = (await store.unfinishedAnswers({ instances: { except: deps.instance }, updatedBefore: Date.now(), limit: SWEEP_BATCH })).filter(
    (c) => c.streamId !== null && !answers.has(c.messageId),
  );
  if (candidates.length === 0) return 0;
  const gone = await ownerGone(candidates);
  let finished = 0;
  for (const [i, c] of candidates.entries()) {
    if (gone[i] !== true) continue;
    const info = await Promise.resolve(events.info(c.streamId as string)).catch(() => undefined);
    // Ended by its own instance only: a stream recorded `lost` (its instance died mid-answer) stays `interrupted`, as documented.
    if (!info?.terminal || (info.terminal.type === 'error' && info.terminal.code === 'lost')) continue;
    answers.record({ owner: c.owner, conversationId: c.conversationId, messageId: c.messageId, streamId: c.streamId as string, fence: c.fence, startedMs: performance.now(), recovered: true });
    finished++;
  }
  return finished;
}

/** `ownerGone` for the sweep of gone instances' answers, leaving those this instance is finishing. */
export function notFollowed(ownerGone: OwnerGone, answers: () => AnswerRecorder | undefined): OwnerGone {
  return async (list) => {
    const gone = await ownerGone(list);
    const recorder = answers();
    return gone.map((g, i) => g && !(recorder && list[i]?.streamId && recorder.follows(list[i].streamId)));
  };
}

/** Runs sweepUnfinished every `everyMs` (JARVIS_ANSWER_SWEEP_MS); returns the function that stops it. */
export function sweepUnfinishedEvery(deps: AnswerSweepDeps, everyMs: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepUnfinished(deps, Math.min(MAX_QUIET_MS, everyMs))
      .then(({ finished, interrupted }) => {
        if (finished + interrupted > 0) deps.log.warn('answers_swept', { finished, interrupted, why: 'left streaming after their stream ended (the store was down when they ended)' });
      })
      // A store that is down is logged once per episode by StoreHealth; the next sweep tries again.
      .catch((err: unknown) => {
        if (!(err instanceof StoreError && err.code === 'unavailable')) deps.log.warn('answer_sweep_failed', { error: err instanceof Error ? err.message : String(err) });
      })
      .finally(() => (running = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
