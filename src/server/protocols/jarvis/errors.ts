import type { ErrorEvent } from '../../../shared/events.js';
import { errorStatus, type StreamErrorCode, type WireError } from '../../../shared/errors.js';
import { openaiErrorBody, type OpenAIErrorBody } from '../openai/errors.js';

// An error in Jarvis's own shape (docs/api.md, docs/errors.md). A refused request's body is OpenAI's
// error object, so one client reads both; a stream that has begun ends with an `error` event line
// (ChatStream writes it in src/streams/, below this room: this is its shape, the test holds both to it).

export function jarvisErrorBody(err: WireError): OpenAIErrorBody {
  return openaiErrorBody(err);
}

/** The `{"type":"error",…}` NDJSON event; `status` only where it is not the registry's (an upstream's 4xx). */
export function jarvisErrorEvent(err: WireError & { code: StreamErrorCode }, ids: Pick<ErrorEvent, 'stream_id' | 'session_id'>): ErrorEvent {
  return {
    type: 'error',
    code: err.code,
    message: err.message,
    ...(err.status === errorStatus(err.code) ? {} : { status: err.status }),
    ...(err.detail ? { detail: err.detail } : {}),
    ...ids,
  };
}
