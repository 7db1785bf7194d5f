import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDialect, sqliteDialect, type OpenedDialect } from '../../src/store/dialects.js';
import { SqlConversationStore } from '../../src/store/sqlStore.js';
import type { UsageEntry } from '../../src/store/usage/types.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/services/postgres.js';

// The usage record on disk (docs/team.md "Usage and limits"): each batch adds to its rows in one
// statement per 500, on SQLite and Postgres alike; two writers' batches add up, none lost.

let postgres: TestPostgres | undefined;
const pgSkip = postgresUnavailable();
beforeAll(async () => {
  if (!pgSkip) postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const DATABASES: Array<{ name: string; open(): Promise<() => OpenedDialect> }> = [
  { name: 'sqlite', open: async () => { const dir = join(mkdtempSync(join(tmpdir(), 'jarvis-usage-')), 'data'); return () => sqliteDialect(dir); } },
  ...(pgSkip ? [] : [{ name: 'postgres', open: async () => { const url = await postgres!.newDatabase(); return () => postgresDialect(url); } }]),
];

const entry = (day: string, keyId: string, model: string, n: number): UsageEntry => ({
  day,
  owner: keyId.replace(/^env:/, ''),
  keyId,
  keyName: keyId.replace(/^env:/, ''),
  model,
  requests: 1,
  promptTokens: 10 * n,
  completionTokens: 100 * n,
  streamMs: 1000 * n,
  reported: n % 2,
  counted: 1 - (n % 2),
});

describe.each(DATABASES)('the usage record: $name', (db) => {
  it('adds batches to their rows, lists them by day, owner, key and model, and sums a key\'s day', async () => {
    const { store } = await SqlConversationStore.open((await db.open())());
    try {
      await store.usage.add([entry('2025-06-01', 'env:alice', 'm1', 1), entry('2025-06-01', 'env:bob', 'm1', 2)]);
      // Two writers at once (two instances) on the same row: both add.
      await Promise.all([store.usage.add([entry('2025-06-01', 'env:alice', 'm1', 3)]), store.usage.add([entry('2025-06-01', 'env:alice', 'm1', 4), entry('2025-06-02', 'env:alice', 'm2', 1)])]);
      // A batch larger than one statement's rows.
      await store.usage.add(Array.from({ length: 1200 }, (_, i) => entry('2025-05-01', `env:k${i}`, 'm', 1)));

      const june = await store.usage.list({ from: '2025-06-01', to: '2025-06-30' });
      expect(june.map((r) => [r.day, r.keyId, r.model, r.requests, r.promptTokens, r.completionTokens, r.streamMs, r.reported, r.counted])).toEqual([
        ['2025-06-01', 'env:alice', 'm1', 3, 80, 800, 8000, 2, 1],
        ['2025-06-01', 'env:bob', 'm1', 1, 20, 200, 2000, 0, 1],
        ['2025-06-02', 'env:alice', 'm2', 1, 10, 100, 1000, 1, 0],
      ]);
      expect((await store.usage.list({ from: '2025-06-01', to: '2025-06-01', owner: 'bob' })).map((r) => r.keyId)).toEqual(['env:bob']);
      expect((await store.usage.list({ from: '2025-01-01', to: '2025-12-31', keyId: 'env:alice' })).map((r) => r.day)).toEqual(['2025-06-01', '2025-06-02']);
      expect(await store.usage.list({ from: '2025-05-01', to: '2025-05-01' })).toHaveLength(1200);
      expect(await store.usage.tokensOn('2025-06-01', 'env:alice')).toBe(880);
      expect(await store.usage.tokensOn('2025-06-03', 'env:alice')).toBe(0);
    } finally {
      await store.close();
    }
  });
});
