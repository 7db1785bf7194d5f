import { StreamReader } from '../helpers/streamReader.js';
import { waitForLog } from '../helpers/log.js';

// Keys and requests the usage and limits tests share (docs/team.md "Usage and limits").

export const ALICE_KEY = 'alice-key-0123456789abcdef';
export const BOB_KEY = 'bob-key-0123456789abcdef00';
export const CAROL_KEY = 'carol-key-0123456789abcdef';
export const DAVE_KEY = 'dave-key-0123456789abcdef0';
export const ERIN_KEY = 'erin-key-0123456789abcdef0';
export const OPS_KEY = 'ops-key-0123456789abcdef00';
export const KEYS = { JARVIS_API_KEYS: `alice:${ALICE_KEY},bob:${BOB_KEY},carol:${CAROL_KEY},dave:${DAVE_KEY},erin:${ERIN_KEY}`, JARVIS_ADMIN_KEYS: `ops:${OPS_KEY}` };

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

/** A prompt on `/v1/chat/completions`, answered in Jarvis NDJSON. */
export function ndjsonChat(url: string, key: string, prompt: string, extra: Record<string, unknown> = {}, session?: string): StreamReader {
  return new StreamReader((signal) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json', accept: 'application/x-ndjson', ...(session ? { 'x-session-id': session } : {}) },
      body: JSON.stringify({ model: 'fake-llama:latest', messages: [{ role: 'user', content: prompt }], ...extra }),
      signal,
    }),
  );
}

/** `GET /v1/usage` with `query`, as `key`. */
export async function usage(url: string, key: string, query: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/usage?${new URLSearchParams(query)}`, { headers: bearer(key) });
  return { status: res.status, body: await res.json() };
}

/** Polls `GET /v1/usage` until `ok` holds of its answer (the record is written within a second). */
export async function usageUntil(url: string, key: string, ok: (body: any) => boolean, query: Record<string, string> = {}, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await usage(url, key, query);
    if (status === 200 && ok(body)) return body;
    if (Date.now() > deadline) throw new Error(`GET /v1/usage never matched: ${status} ${JSON.stringify(body).slice(0, 1000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the clock is at least `marginS` seconds from the end of its minute, so a test's requests share one rpm window. */
export async function awayFromMinuteEnd(marginS = 15): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginS * 1000) await new Promise((r) => setTimeout(r, left + 50));
}

export const today = (): string => new Date().toISOString().slice(0, 10);

/**
 * Waits for the `stream_end` of the stream a response named (`X-Stream-Id`): a request's tokens
 * count against its key's limits once its stream has ended, a moment after its reply went out.
 */
export async function ended(logFile: string, headers: Headers): Promise<void> {
  const id = headers.get('x-stream-id');
  if (!id) throw new Error('the response names no stream (X-Stream-Id)');
  await waitForLog(logFile, 'stream_end', { trace: id });
}
