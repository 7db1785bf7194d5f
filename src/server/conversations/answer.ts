import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BackendMessage, BackendRequest } from '../../backends/types.js';
import { FROM_START } from '../../streams/eventLog/types.js';
import type { Conversation, StoredMessage, Turn } from '../../store/types.js';
import type { JarvisContext } from '../context.js';
import { promptContent } from './attachments/promptContent.js';
import { conversationJson, messageJson } from './json.js';
import { resolveModel } from '../streaming/defaultModel.js';
import { HttpError, httpError } from '../errors.js';
import { replayFormat } from '../streaming/replayWriter.js';
import { storeCall } from '../storeErrors.js';
import { replay } from '../streaming/replay.js';

/** What a prompt may set for its one answer, over the conversation's own settings. */
export interface AnswerParams {
  model?: string;
  temperature?: number;
  max_tokens?: number;
}

export const answerParamsSchema = {
  model: { type: 'string', minLength: 1, maxLength: 256 },
  temperature: { type: 'number', minimum: 0, maximum: 2 },
  max_tokens: { type: 'integer', minimum: 1 },
} as const;

/** What starting an answer reads (`backend`, `defaultModel` and `shuttingDown` live: the context itself is passed). */
export type AnswerContext = Pick<JarvisContext, 'config' | 'log' | 'backend' | 'defaultModel' | 'shuttingDown' | 'starter' | 'store' | 'answers' | 'conversationFeed' | 'streamLog'>;

/**
 * Starts a conversation's next answer and serves the request as its first reader.
 * The answer streams on session = the conversation id, through runStream like
 * every stream (same registry, supersede rules, log lines, metrics). It is not
 * tied to this request: the request reading it may go, the answer goes on, and
 * is stored as it grows (AnswerRecorder). Only Stop, a newer prompt, a limit or
 * shutdown ends it.
 */
export async function startAnswer(
  ctx: AnswerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  conversation: Conversation,
  owner: string,
  turn: Turn,
  params: AnswerParams,
): Promise<void> {
  // Refused before the model is looked up (a 503 asks no upstream anything); admit checks again after.
  ctx.starter.refuseIfClosed();
  // The backend read once (auto mode may switch ctx.backend meanwhile).
  const backend = ctx.backend;
  // Through JARVIS_MODEL_ALIASES like every route; the conversation records the model that ran.
  const { model } = await resolveModel(ctx, backend, params.model ?? conversation.model);
  // Counted like every stream (JARVIS_MAX_STREAMS…) until it ends, however long it outlives this request;
  // admitted before anything is stored, so a refusal is a plain 429 that leaves no trace.
  const admission = await ctx.starter.admit(request, owner, conversation.id);
  const { streamId, fence } = admission;
  let started;
  try {
    started = await storeCall(ctx.store.startTurn(owner, conversation.id, turn, { streamId, model, fence }));
  } catch (err) {
    admission.release();
    throw err;
  }
  const assistant = started.assistant;
  if (ctx.shuttingDown) {
    // Shutdown began while the turn was stored; its streams were already cancelled.
    admission.release();
    await ctx.store.updateAnswer(assistant.id, fence, { content: '', seq: -1, state: 'shutdown' }).catch(() => false);
    throw shuttingDown();
  }

  const conv = started.conversation;
  const backendRequest: BackendRequest = {
    model,
    messages: promptOf(conv.system, started.history),
    temperature: params.temperature ?? conv.params.temperature,
    maxTokens: params.max_tokens ?? conv.params.max_tokens,
  };
  // Not awaited: the answer outlives this request. `done` never rejects (runStream's
  // finally ends every stream); the catch is for an internal bug only.
  const { stream, done } = ctx.starter.run(admission, { model, backend, request: backendRequest });
  void done.catch((err: unknown) => ctx.log.error('stream_internal_error', { trace: streamId, error: err instanceof Error ? err.message : String(err) }));
  // One process: runStream has logged the stream's status event synchronously. A cluster creates
  // the log once the session is taken in Redis; readers wait for it (openLoggedStream's `expect`).
  ctx.answers.record({ owner, conversationId: conv.id, messageId: assistant.id, streamId, fence, startedMs: stream.startedMs });
  ctx.conversationFeed.publish(owner, { type: 'conversation', op: 'updated', conversation_id: conv.id, conversation: conversationJson(conv) });
  ctx.conversationFeed.publish(owner, {
    type: 'answer_started',
    conversation_id: conv.id,
    message_id: assistant.id,
    stream_id: streamId,
    user_message: messageJson(started.user),
    turn: turn.kind,
  });

  reply.hijack();
  await replay(ctx.streamLog, request.raw, reply.raw, {
    streamId,
    sessionId: conv.id,
    after: FROM_START,
    format: replayFormat(request.headers.accept),
    maxBufferBytes: ctx.config.limits.readerBufferBytes,
    headers: { 'x-conversation-id': conv.id, 'x-message-id': assistant.id, 'x-user-message-id': started.user.id },
  });
}

/** The conversation as the model sees it: its system prompt, then every message of the branch with content (and its files). */
function promptOf(system: string | null, history: StoredMessage[]): BackendMessage[] {
  const messages: BackendMessage[] = system ? [{ role: 'system', content: system }] : [];
  for (const m of history) {
    // An answer that ended before its first token (stopped, failed) says nothing.
    if (m.role === 'assistant' && m.content === '') continue;
    messages.push({ role: m.role, content: m.role === 'user' ? promptContent(m) : m.content });
  }
  return messages;
}

function shuttingDown(): HttpError {
  return httpError('shutting_down');
}
