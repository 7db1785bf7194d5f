import { ChatStream } from '../../streams/chatStream.js';
import type { EventWriter } from '../../streams/eventWriter.js';
import type { StreamTiming } from '../../streams/streamTiming.js';
import type { LengthLimit } from '../../streams/terminalEvent.js';
import { LogWriter } from '../../streams/eventLog/logWriter.js';
import type { StreamEventLog } from '../../streams/eventLog/types.js';
import type { SystemLog } from '../../log/systemLog.js';
import type { Config } from '../../config.js';

/** What a logged stream needs of the server (the JarvisContext fields of these names). */
export interface LoggedStreamContext {
  config: Pick<Config, 'cancelTimeoutMs'>;
  log: SystemLog;
  streamLog: StreamEventLog;
}

export interface LoggedStreamOptions {
  streamId: string;
  sessionId: string;
  model: string;
  owner: string;
  /** The caller's keyId ('' without keys). */
  keyId?: string;
  /** The OpenAI `user` field: only logged. */
  user?: string;
  /** The response that reads the stream directly, if any (see LogWriterOptions.primary). */
  primary?: EventWriter;
  /** Its writes' fence (StreamStarter.admit). */
  fence: bigint;
  /** The request's timing (its `Server-Timing`), when a request is being answered. */
  timing?: StreamTiming;
  /** A key's limit that capped max_tokens (ChatStreamOptions.lengthLimit). */
  lengthLimit?: LengthLimit;
}

/**
 * A ChatStream whose events go into the event log (and on to `primary`), so any
 * number of readers can follow it by `GET /v1/streams/{id}/events`.
 */
export function openLoggedStream(ctx: LoggedStreamContext, options: LoggedStreamOptions): ChatStream {
  const writer = new LogWriter(ctx.streamLog, { owner: options.owner, fence: options.fence, primary: options.primary });
  const stream = new ChatStream({
    id: options.streamId,
    sessionId: options.sessionId,
    owner: options.owner,
    keyId: options.keyId,
    user: options.user,
    model: options.model,
    writer,
    log: ctx.log,
    closeGraceMs: ctx.config.cancelTimeoutMs,
    timing: options.timing,
    lengthLimit: options.lengthLimit,
  });
  // Its log is created once the session is taken (the cluster: in Redis); readers that come first wait for it.
  ctx.streamLog.expect?.(options.streamId, stream.finished);
  writer.onRefused = (result) => {
    ctx.log.warn('stream_log_refused', { trace: stream.id, session: stream.sessionId, result, tokens: stream.tokens });
    if (result === 'full') {
      // Longer than the log holds: ended as a length limit would end it.
      stream.truncate();
    } else {
      stream.fail('internal_error', `the stream's event log refused a token (${result})`);
    }
  };
  return stream;
}
