import { join } from 'node:path';
import { FakeOllama } from '../fakes/fakeOllama.js';
import { events } from '../log.js';
import { spawnJarvis, type JarvisProcess } from '../jarvisProcess.js';
import { startPostgres, type TestPostgres } from '../services/postgres.js';
import { startRedis, type TestRedis } from '../services/redis.js';
import { StreamReader } from '../streamReader.js';

export interface TestCluster {
  redis: TestRedis;
  postgres: TestPostgres;
  databaseUrl: string;
  fake: FakeOllama;
  instances: JarvisProcess[];
  /** Starts one more instance (or again, under the same id) on the cluster's Redis and Postgres; `env` adds to or overrides the cluster's. */
  spawn(id: string, env?: Record<string, string>): Promise<JarvisProcess>;
  stop(): Promise<void>;
}

export const LEASE_MS = 1500;
export const CANCEL_TIMEOUT_MS = 2000;

/**
 * Redis, Postgres, a fake Ollama and `n` Jarvis processes (`i1`…), as an operator runs them.
 * `logDir`: every instance logs to `<logDir>/<id>.log` (as `npm run cluster` does), else each to a temp dir of its own.
 */
export async function startCluster(n: number, env: Record<string, string> = {}, options: { logDir?: string } = {}): Promise<TestCluster> {
  const [redis, postgres, fake] = await Promise.all([startRedis(), startPostgres(), new FakeOllama().start()]);
  const databaseUrl = await postgres.newDatabase();
  const instances: JarvisProcess[] = [];
  const spawn = async (id: string, extra: Record<string, string> = {}) => {
    const p = await spawnJarvis({
      JARVIS_BACKEND: 'ollama',
      OLLAMA_HOST: fake.url,
      REDIS_URL: redis.url,
      DATABASE_URL: databaseUrl,
      JARVIS_INSTANCE_ID: id,
      JARVIS_LEASE_MS: String(LEASE_MS),
      JARVIS_CANCEL_TIMEOUT_MS: String(CANCEL_TIMEOUT_MS),
      JARVIS_ADMIN_KEYS: 'ops:ops-key-0123456789abcdef',
      JARVIS_API_KEYS: 'alice:alice-key-0123456789abcdef',
      ...(options.logDir ? { JARVIS_LOG_FILE: join(options.logDir, `${id}.log`) } : {}),
      ...env,
      ...extra,
    });
    instances.push(p);
    return p;
  };
  // One after another: the first creates the Postgres schema.
  for (let i = 1; i <= n; i++) await spawn(`i${i}`);
  return {
    redis,
    postgres,
    databaseUrl,
    fake,
    instances,
    spawn,
    async stop() {
      for (const p of instances) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
      await Promise.all(instances.map((p) => p.exited));
      await fake.stop();
      await redis.stop();
      await postgres.stop();
    },
  };
}

/** The id of the instance that ran stream `streamId` (from the stream_start lines of the instances' logs). */
export async function instanceOf(c: TestCluster, streamId: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const p of c.instances) {
      const line = events(p.logFile, 'stream_start', { trace: streamId })[0];
      if (line?.fields.instance) return line.fields.instance;
    }
    if (Date.now() > deadline) throw new Error(`no stream_start for ${streamId} in any instance's log within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const ALICE = { authorization: 'Bearer alice-key-0123456789abcdef' };
export const OPS = { authorization: 'Bearer ops-key-0123456789abcdef' };

/** A prompt on `/v1/chat/completions` in Jarvis NDJSON, on session `session`, as alice. */
export function chat(url: string, session: string, prompt: string): StreamReader {
  return new StreamReader((signal) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ALICE, 'content-type': 'application/json', accept: 'application/x-ndjson', 'x-session-id': session },
      body: JSON.stringify({ messages: [{ role: 'user', content: prompt }] }),
      signal,
    }),
  );
}

export function attach(url: string, streamId: string, after?: number): StreamReader {
  const query = after === undefined ? '' : `?after=${after}`;
  return new StreamReader((signal) => fetch(`${url}/v1/streams/${streamId}/events${query}`, { headers: ALICE, signal }));
}

export async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = ALICE): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}
