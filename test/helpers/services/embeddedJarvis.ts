import { fileURLToPath } from 'node:url';
import { spawnJarvis, type JarvisProcess } from '../jarvisProcess.js';
import { startTestJarvis, type TestJarvis } from '../jarvisServer.js';
import { readLog } from '../log.js';
import type { ParsedLine } from '../../../src/log/format.js';

// Jarvis on the real engine: the embedded backend (docs/embedded.md) with the tiny random-weight
// GGUF in test/fixtures/models/ (its provenance is in the README beside it). The answers are
// gibberish, but the same for the same prompt and seed, and 2000 tokens take a second or two.

/** The tiny model's name: its file's stem. */
export const TINY_MODEL = 'llama-2-tiny-random';
export const MODELS_DIR = fileURLToPath(new URL('../../fixtures/models', import.meta.url));
/** The seed the tests send where the request has one (OpenAI `seed`, Ollama `options.seed`). */
export const SEED = 7;

/**
 * The environment of a Jarvis on the embedded engine. One thread: the default thread count on a
 * busy 2-core machine makes generation hundreds of times slower (docs/embedded.md). The CPU only:
 * the tests must not depend on, or spend time looking for, a GPU.
 */
export function embeddedEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    JARVIS_BACKEND: 'embedded',
    JARVIS_MODELS_DIR: MODELS_DIR,
    JARVIS_MODEL: TINY_MODEL,
    JARVIS_EMBEDDED_THREADS: '1',
    JARVIS_EMBEDDED_GPU: 'off',
    ...extra,
  };
}

/** A Jarvis in this process on the embedded engine (no fake upstream); `close()` checks one stream_end per stream_start. */
export function startEmbeddedJarvis(extra: Record<string, string> = {}): Promise<TestJarvis> {
  return startTestJarvis(embeddedEnv(extra), { fake: false });
}

/** A Jarvis in its own process on the embedded engine, as users run it. */
export function spawnEmbeddedJarvis(extra: Record<string, string> = {}, args?: string[]): Promise<JarvisProcess> {
  return spawnJarvis(embeddedEnv(extra), args);
}

/** What the embedded engine's `confirmed` rests on: the stream's sequence is free again (`stream_end` `cancel_how`). */
export const ENGINE_HOW = 'sequence_free';

/** The reasons a stream_end gives for a cancel (src/shared/events.ts `CancelReason`). */
export const CANCEL_REASONS = ['superseded', 'stopped', 'client_closed', 'shutdown'];

/**
 * The stream_end lines of cancelled streams and the engine's verdict on each (`cancel`, and
 * `cancel_how`: `sequence_free` when the embedded engine's sequence was free again,
 * `not_started` when the stream was cancelled before any engine had its work), docs/operations.md.
 * Every one must say `cancel=confirmed`; a cancelled stream without the field is `missing`.
 */
export function cancelVerdicts(logFile: string, where: (l: ParsedLine) => boolean = () => true): Array<{ trace: string; reason: string; cancel: string; how: string }> {
  return readLog(logFile)
    .filter((l) => l.event === 'stream_end' && where(l))
    .filter((l) => CANCEL_REASONS.includes(l.fields.reason ?? '') || l.fields.cancel !== undefined)
    .map((l) => ({ trace: l.fields.trace ?? '', reason: l.fields.reason ?? '', cancel: l.fields.cancel ?? 'missing', how: l.fields.cancel_how ?? '' }));
}

/** `GET /debug/streams`: the live streams and any engine work still running after its stream ended. */
export async function debugStreams(url: string, headers: Record<string, string> = {}): Promise<{ streams: unknown[]; lingering: unknown[] }> {
  const res = await fetch(`${url}/debug/streams`, { headers });
  const body = (await res.json()) as { streams?: unknown[]; lingering?: unknown[] };
  // A missing list would make "nothing lingers" pass without looking.
  if (!Array.isArray(body.streams) || !Array.isArray(body.lingering)) throw new Error(`/debug/streams without streams and lingering: ${JSON.stringify(body)}`);
  return { streams: body.streams, lingering: body.lingering };
}
