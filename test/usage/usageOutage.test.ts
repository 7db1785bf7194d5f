import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/services/postgres.js';
import { ALICE_KEY, KEYS, ndjsonChat, usageUntil } from './helpers.js';

// The usage record across a store outage (docs/team.md "Usage and limits"): the real Postgres
// stopped while requests end. The streams never wait for it; their rows are held, the failed
// write logged, and written once Postgres is back: nothing lost, nothing silent.

const skip = postgresUnavailable();

describe.skipIf(skip)('usage while Postgres is down', () => {
  let postgres: TestPostgres;
  let j: TestJarvis;
  beforeAll(async () => {
    postgres = await startPostgres();
    j = await startTestJarvis({ ...KEYS, DATABASE_URL: await postgres.newDatabase() });
  }, 60_000);
  afterAll(async () => {
    await j?.close();
    await postgres?.stop();
  });

  it('holds the rows, logs usage_write_failed, and writes them once Postgres is back', async () => {
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 20 }, (_, i) => `${p}${i} `), tokenMs: 1 });
    await postgres.halt();
    for (let i = 0; i < 3; i++) {
      const answer = ndjsonChat(j.url, ALICE_KEY, `p${i}`);
      await answer.finished;
      expect(answer.terminal).toMatchObject({ type: 'done', reason: 'stop' });
    }
    await waitForLog(j.logFile, 'usage_write_failed', {}, 20_000);
    await postgres.restart();
    const body = await usageUntil(j.url, ALICE_KEY, (b) => b.totals.requests === 3, {}, 60_000);
    expect(body.totals).toMatchObject({ requests: 3, prompt_tokens: 21, completion_tokens: 60 });
    expect(events(j.logFile, 'usage_dropped')).toHaveLength(0);
  }, 90_000);
});
