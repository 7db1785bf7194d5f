import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Check, Report } from '../../src/diagnostics/report/report.js';
import { LogBuilder } from '../helpers/fixtures/logBuilder.js';

// `jarvis diagnose` names a Redis that restarted (docs/security.md, "Redis restarted
// empty"), on synthetic logs of two instances in the server's own line format. The
// real thing, on a real Redis, is in test/cluster/clusterRedisRestart.test.ts.

function twoInstances(): { i1: LogBuilder; i2: LogBuilder; write(): string } {
  const clock = { now: Date.parse('2026-01-26T10:00:00.000Z') };
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-diagnose-redis-'));
  const i1 = new LogBuilder({ instance: 'i1', clock });
  const i2 = new LogBuilder({ instance: 'i2', clock });
  for (const i of [i1, i2]) i.listening().advance(10);
  return {
    i1,
    i2,
    write: () => {
      i1.write(join(dir, 'i1.log'));
      i2.write(join(dir, 'i2.log'));
      return dir;
    },
  };
}

async function check(dir: string): Promise<Check | undefined> {
  let json = '';
  await diagnoseCommand(['--log', dir, '--json'], (t) => (json += t));
  const report = JSON.parse(json) as Report;
  return report.sections.flatMap((s) => s.checks).find((c) => c.id === 'redis_restarted');
}

describe('jarvis diagnose: Redis restarts', () => {
  it('a restart that came back empty: when, which instances saw it, the logs written back per owner, the readers that resumed and those that got answer_log_lost', async () => {
    const c = twoInstances();
    c.i1.start('a1', 's1', { key: 'alice' }).start('a2', 's2', { key: 'alice' }).advance(50);
    for (const i of [c.i1, c.i2]) i.line('warn', 'redis_unavailable', { error: 'read ECONNRESET', streams_running: 2 });
    c.i1.advance(4000);
    for (const i of [c.i1, c.i2]) i.line('info', 'redis_ready', { after: 'connect ECONNREFUSED' }).line('warn', 'redis_restarted', { run_id: 'b2', prev_run_id: 'a1', empty: true, streams_live: 2, streams_ended: 0 });
    c.i1.line('info', 'redis_log_restored', { trace: 'a1', session: 's1', state: 'live', fence: 1 }).line('info', 'redis_log_restored', { trace: 'a2', session: 's2', state: 'live', fence: 2 });
    c.i2.line('info', 'redis_log_resumed', { trace: 'a1', session: 's1', after: 39, waited_ms: 200 }).line('warn', 'redis_log_lost', { trace: 'a9', session: 's9', after: 3, waited_ms: 5000 });
    c.i1.advance(100).end('a1', 's1').end('a2', 's2');
    const found = await check(c.write());
    expect(found?.status).toBe('problem');
    expect(found?.summary).toBe(
      "1 Redis restarts, 1 that lost data: Redis restarted EMPTY at 2026-01-26T10:00:04.070Z (run_id b2, seen by i1, i2); 2 streams' logs were written back from their owners' memory (i1: 2); 1 readers on other instances resumed; 1 readers got answer_log_lost (a9)",
    );
    expect(found?.fix).toMatch(/appendonly yes/);
    expect(found?.evidence[0]?.lines?.some((l) => l.includes('redis_restarted'))).toBe(true);
  });

  it('a restart that kept its data is no problem; a log lost with no restart seen (a flush) is', async () => {
    const kept = twoInstances();
    kept.i1.line('warn', 'redis_restarted', { run_id: 'b2', prev_run_id: 'a1', empty: false, streams_live: 0, streams_ended: 0 });
    const ok = await check(kept.write());
    expect(ok?.status).toBe('ok');
    expect(ok?.summary).toMatch(/^1 Redis restarts, 0 that lost data: Redis restarted with its data/);

    const flushed = twoInstances();
    flushed.i2.line('warn', 'redis_log_lost', { trace: 'a1', session: 's1', after: 3, waited_ms: 5000 });
    flushed.i1.line('error', 'answer_log_lost', { message: 'msg_1', stream_id: 'a1', session: 's1', seq: 3 });
    const lost = await check(flushed.write());
    expect(lost?.status).toBe('problem');
    expect(lost?.summary).toMatch(/stream logs vanished from Redis at .* with no redis_restarted line before .*1 readers got answer_log_lost, 1 stored answers lost their log \(a1\)/);
  });

  it('no restart: ok', async () => {
    const c = twoInstances();
    c.i1.start('a1', 's1').advance(10).end('a1', 's1');
    expect((await check(c.write()))?.status).toBe('ok');
  });
});
