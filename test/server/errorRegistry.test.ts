import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { ErrorCode, ErrorEvent } from '../../src/shared/events.js';
import {
  ERROR_CODES,
  ERRORS,
  GUARD_ERROR_CODES,
  STREAM_ERROR_CODES,
  errorMessage,
  errorOfEvent,
  errorStatus,
  isErrorCode,
  wireError,
  type ErrorParams,
  type GuardErrorCode,
  type JarvisErrorCode,
  type StreamErrorCode,
  type WireError,
} from '../../src/shared/errors.js';
import { SystemLog } from '../../src/log/systemLog.js';
import { httpError, installErrorHandling } from '../../src/server/errors.js';
import { openaiErrorBody, openaiErrorType, openaiSseError } from '../../src/server/protocols/openai/errors.js';
import { ollamaErrorBody, ollamaErrorLine } from '../../src/server/protocols/ollama/errors.js';
import { jarvisErrorBody, jarvisErrorEvent } from '../../src/server/protocols/jarvis/errors.js';
import { waitForLog } from '../helpers/log.js';

// Every code of the registry (src/shared/errors.ts), in every protocol's wire shape, and in the
// catalogue people read (docs/errors.md).

/** Facts for every code's template: a mapped type, so a code added without a sample does not compile. */
const SAMPLES: { [C in JarvisErrorCode]: ErrorParams<C> } = {
  upstream_unavailable: { message: 'Ollama is not answering at http://127.0.0.1:11434. Start it, or check OLLAMA_HOST.' },
  upstream_error: { message: 'Ollama stopped answering mid-reply (connection reset). Retry when it is back.' },
  upstream_rejected: { message: 'Ollama refused the request: the prompt is longer than the context' },
  timeout: { message: 'Ollama did not answer within 5000 ms' },
  unsupported: { message: 'the demo backend has no embeddings' },
  unsupported_by_backend: { message: 'the demo backend cannot fill in the middle (suffix); use Ollama or an OpenAI-compatible server' },
  model_not_found: { model: 'llama9' },
  no_model: { backend: 'ollama' },
  engine_busy: { message: 'the embedded engine is busy; retry shortly' },
  upstream_busy: { message: 'every server of the model is busy and its queue is full; retry shortly' },
  engine_unavailable: { message: 'the embedded engine is not installed' },
  internal_error: undefined,
  cluster_unavailable: { message: 'Redis cannot be reached' },
  lost: { message: 'the instance running this stream stopped' },
  answer_log_lost: { message: 'the answer log vanished' },
  shutting_down: undefined,
  server_busy: { max: 512 },
  metrics_disabled: undefined,
  backup_running: undefined,
  invalid_request: { message: '"messages" must be a list' },
  bad_request: { message: 'Body cannot be empty' },
  invalid_json: { reason: 'Unexpected token } in JSON at position 1' },
  json_too_deep: { max: 64 },
  body_too_large: undefined,
  invalid_session_id: { in: 'header' },
  invalid_context: undefined,
  not_found: { method: 'GET', path: '/nope' },
  stream_not_found: { id: 'abc' },
  conversation_not_found: { id: 'conv_1' },
  conflict: { message: 'the message was edited meanwhile' },
  store_unavailable: { message: 'Postgres cannot be reached' },
  host_not_allowed: { host: 'evil.example' },
  origin_not_allowed: { origin: 'https://evil.example' },
  missing_api_key: undefined,
  invalid_api_key: undefined,
  api_key_revoked: { name: 'alice laptop', at: '2026-12-07T10:00:00.000Z' },
  api_key_expired: { name: 'alice laptop', at: '2026-12-07T10:00:00.000Z' },
  sign_in_required: { header: 'X-Forwarded-User' },
  invalid_user: { header: 'X-Forwarded-User', problem: 'is empty' },
  admin_required: { key: 'alice' },
  storage_quota_exceeded: { used: '1.0 MiB (1048576 bytes)', quota: '1.0 MiB (1048576 bytes)', adds: '12 bytes' },
  too_many_streams: { max: 64 },
  too_many_streams_for_client: { held: 8 },
  too_many_connections_for_client: { held: 30 },
  too_many_followers_for_client: { held: 4, what: 'conversation-feed followers', variable: 'JARVIS_MAX_FOLLOWERS_PER_CLIENT', advice: 'close one or retry shortly' },
  too_many_readers_for_client: { held: 16, what: 'stream readers', variable: 'JARVIS_MAX_READERS_PER_CLIENT', advice: 'close one or retry shortly' },
  too_many_searches: { held: 2, what: 'searches running', variable: 'JARVIS_MAX_SEARCHES_PER_CLIENT', advice: 'wait for them to answer, then retry' },
  too_many_ops_readers_for_client: { held: 4, what: 'ops-feed readers', variable: 'JARVIS_OPS_MAX_READERS_PER_CLIENT', advice: 'close one or retry shortly' },
  too_many_ops_readers: { max: 32 },
  rate_limited: { limit: 'rpm', value: 60, retryAfterS: 12 },
  too_many_image_fetches: { held: 4 },
  too_many_images: { count: 9, max: 8 },
  image_urls_disabled: { ordinal: 1 },
  image_too_large: { total: '20.0 MiB' },
  image_fetch_failed: { url: 'https://example.com/cat.png', policy: 'JARVIS_IMAGE_FETCH=public' },
  invalid_attachment: { name: 'notes.bin', why: 'it is not text (not valid UTF-8)' },
  too_many_attachments: { count: 11, max: 10 },
  attachment_too_large: { name: 'big.csv', size: '12 MiB', max: '10 MiB' },
  model_lacks_vision: { model: 'llama3.2', capabilities: ['completion', 'tools'] },
};

const render = <C extends JarvisErrorCode>(code: C): string => (ERRORS[code].message as (p: ErrorParams<C>) => string)(SAMPLES[code]);
const DETAIL = 'ECONNRESET read ECONNRESET (127.0.0.1:11434)';

// Type-level: the codes are a closed union (checked by `npm run typecheck`, which covers test/).
type IsClosed<U> = string extends U ? false : true;
const closed: IsClosed<JarvisErrorCode> = true;
const streamCodesAreEventCodes: [ErrorCode] extends [StreamErrorCode] ? ([StreamErrorCode] extends [ErrorCode] ? true : false) : false = true;
const subsets: [StreamErrorCode | GuardErrorCode] extends [JarvisErrorCode] ? true : false = true;
export function doesNotCompile(): void {
  // @ts-expect-error: a code that is not in the registry does not compile
  httpError('no_such_code');
  // @ts-expect-error: nor do another code's facts
  httpError('no_model', { model: 'x' });
}

describe('the error registry', () => {
  it('is a closed union of codes, each with its sample here', () => {
    expect([closed, streamCodesAreEventCodes, subsets]).toEqual([true, true, true]);
    expect(Object.keys(SAMPLES).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of [...STREAM_ERROR_CODES, ...GUARD_ERROR_CODES]) expect(ERROR_CODES).toContain(code);
    expect([isErrorCode('model_not_found'), isErrorCode('toString'), isErrorCode('http_502')]).toEqual([true, false, false]);
  });

  it.each(ERROR_CODES)('%s has an error status and a message rendered from its template', (code) => {
    const status = errorStatus(code);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
    const message = render(code);
    expect(message.length).toBeGreaterThan(0);
    expect(message).not.toContain('undefined');
    expect(message).not.toMatch(/^\w+: /); // no code repeated in front of the words
    expect(errorMessage(code, SAMPLES[code] as never)).toBe(message);
  });

  it.each(ERROR_CODES)('%s in OpenAI shape: body and SSE error event', (code) => {
    const err = wireError(code, SAMPLES[code] as never, { param: 'messages' });
    const status = errorStatus(code);
    const type = status === 429 ? 'rate_limit_error' : status < 500 ? 'invalid_request_error' : 'server_error';
    expect(openaiErrorType(status)).toBe(type);
    expect(openaiErrorBody(err)).toEqual({ error: { code, message: render(code), type, param: 'messages' } });
    expect(Object.keys(openaiErrorBody(err).error)).toEqual(['code', 'message', 'type', 'param']);
    const sse = openaiSseError(err);
    expect(sse).toMatch(/^data: \{.*\}\n\n$/);
    expect(JSON.parse(sse.slice('data: '.length))).toEqual(openaiErrorBody(err));
    expect(openaiErrorBody({ ...err, detail: DETAIL }).error.detail).toBe(DETAIL);
  });

  it.each(ERROR_CODES)('%s in Ollama shape: {"error":"…"} body and stream line', (code) => {
    const err = wireError(code, SAMPLES[code] as never);
    expect(ollamaErrorBody(err)).toEqual({ error: render(code) });
    expect(ollamaErrorLine(err)).toBe(`${JSON.stringify({ error: render(code) })}\n`);
    expect(ollamaErrorBody({ ...err, detail: DETAIL })).toEqual({ error: render(code), detail: DETAIL });
  });

  it.each(ERROR_CODES)('%s in Jarvis shape: the OpenAI body, and the NDJSON error event for stream codes', (code) => {
    const err = wireError(code, SAMPLES[code] as never);
    expect(jarvisErrorBody(err)).toEqual(openaiErrorBody(err));
    if (!(STREAM_ERROR_CODES as readonly string[]).includes(code)) return;
    const streamErr = err as WireError & { code: StreamErrorCode };
    const ids = { stream_id: 's1', session_id: 'sess' };
    const event = jarvisErrorEvent(streamErr, ids);
    expect(event).toEqual({ type: 'error', code, message: render(code), stream_id: 's1', session_id: 'sess' });
    // The event maps back to the same error, whichever writer reads it.
    expect(errorOfEvent(event)).toEqual(err);
    const withDetail = jarvisErrorEvent({ ...streamErr, detail: DETAIL }, ids);
    expect(withDetail.detail).toBe(DETAIL);
    expect(errorOfEvent(withDetail).detail).toBe(DETAIL);
  });

  it("an upstream's own 4xx travels in the event and becomes the status", () => {
    const event: ErrorEvent = { type: 'error', code: 'upstream_rejected', message: 'too long', status: 413, stream_id: 's', session_id: 'x' };
    const err = errorOfEvent(event);
    expect(err.status).toBe(413);
    expect(jarvisErrorEvent({ ...err, code: 'upstream_rejected' }, { stream_id: 's', session_id: 'x' })).toEqual(event);
    expect(openaiErrorBody(err).error.type).toBe('invalid_request_error');
  });

  it('every code is in the catalogue people read, docs/errors.md, with its status', () => {
    const page = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    for (const code of ERROR_CODES) {
      const row = page.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      expect(row, `docs/errors.md has no row for ${code}`).toBeDefined();
      expect(row?.split('|')[2]?.trim().startsWith(String(errorStatus(code))), `docs/errors.md gives ${code} another status`).toBe(true);
    }
  });
});

describe('the error handler', () => {
  async function appWith(protocol: 'jarvis' | 'ollama') {
    const file = join(mkdtempSync(join(tmpdir(), 'jarvis-errors-')), 'jarvis.log');
    const log = new SystemLog({ file });
    const app = Fastify();
    installErrorHandling(app, log, protocol === 'ollama' ? ollamaErrorBody : undefined);
    app.get('/fails', async () => {
      throw httpError('upstream_unavailable', { message: 'Ollama is not answering. Start it, then retry.' }, { detail: DETAIL });
    });
    app.get('/refuses', async () => {
      throw httpError('too_many_streams', { max: 2 }, { headers: { 'retry-after': '2' } });
    });
    await app.ready();
    return { app, file };
  }

  it('sends the registry status, the words, and the detail, and logs the detail', async () => {
    const { app, file } = await appWith('jarvis');
    const res = await app.inject({ method: 'GET', url: '/fails' });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({
      error: { code: 'upstream_unavailable', message: 'Ollama is not answering. Start it, then retry.', type: 'server_error', param: null, detail: DETAIL },
    });
    await waitForLog(file, 'request_failed', { code: 'upstream_unavailable', detail: DETAIL });
    const refused = await app.inject({ method: 'GET', url: '/refuses' });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.json()).toEqual({ error: { code: 'too_many_streams', message: errorMessage('too_many_streams', { max: 2 }), type: 'rate_limit_error', param: null } });
    await app.close();
  });

  it("answers in the route's protocol: Ollama's string error, with the detail beside it", async () => {
    const { app } = await appWith('ollama');
    const res = await app.inject({ method: 'GET', url: '/fails' });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({ error: 'Ollama is not answering. Start it, then retry.', detail: DETAIL });
    const missing = await app.inject({ method: 'GET', url: '/nope?x=1' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: errorMessage('not_found', { method: 'GET', path: '/nope' }) });
    await app.close();
  });
});
