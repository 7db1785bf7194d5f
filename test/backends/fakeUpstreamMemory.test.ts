import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { defaultPlan } from '../helpers/fakes/fakeUpstream.js';

// The fakes keep a record of every request for as long as they run (the benchmark's
// runs thousands through one fake): a record must not keep its reply's plan alive.
// It once did (a getter made inside the request's scope held that scope), and the
// benchmark's fake upstream died of a full heap in its cluster section.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('fake upstream memory', () => {
  const fake = new FakeOllama();
  let plans: Array<WeakRef<object>> = [];
  beforeAll(async () => {
    fake.plan = (prompt) => {
      const plan = { ...defaultPlan(prompt), tokens: Array.from({ length: 10_000 }, (_, i) => `t${i} `), tokenMs: 20 };
      plans.push(new WeakRef(plan.tokens));
      return plan;
    };
    await fake.start();
  });
  afterAll(() => fake.stop());

  it("a finished request's record does not hold its plan", async () => {
    plans = [];
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request(`${fake.url}/api/chat`, { method: 'POST' }, (res) => res.once('data', () => req.destroy()));
        req.on('close', resolve).on('error', reject);
        req.end(JSON.stringify({ model: 'fake-llama:latest', messages: [{ role: 'user', content: `stream ${i}` }], stream: true }));
      });
    }
    await Promise.all(fake.requests.map((r) => r.closed));
    expect(fake.requests).toHaveLength(5);
    // Collected once nothing refers to them: a few collections, across turns (WeakRefs clear between them).
    await expect
      .poll(
        () => {
          gc();
          return plans.filter((p) => p.deref() !== undefined).length;
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe(0);
  });
});
