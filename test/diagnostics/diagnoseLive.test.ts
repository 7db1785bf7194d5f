import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Check, Report } from '../../src/diagnostics/report/report.js';
import { LogBuilder } from '../helpers/fixtures/logBuilder.js';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';

// `jarvis diagnose --url`: what the running server adds to the log's story.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

async function report(args: string[]): Promise<{ code: number; byId: Map<string, Check> }> {
  let text = '';
  const code = await diagnoseCommand([...args, '--json'], (t) => (text += t));
  const parsed = JSON.parse(text) as Report;
  return { code, byId: new Map(parsed.sections.flatMap((s) => s.checks.map((c) => [c.id, c] as const))) };
}

describe('jarvis diagnose --url', () => {
  it('tells a stream still running on the server from an orphan', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (prompt) => ({ tokens: Array.from({ length: prompt === 'long' ? 2000 : 5 }, (_, i) => `${i} `), tokenMs: 10 });
    const running = chat(j.url, { session: 'live-1', prompt: 'long' });
    await running.firstToken();
    await waitForLog(j.logFile, 'stream_start', { session: 'live-1' });

    const { code, byId } = await report(['--url', j.url, '--log', j.logFile]);
    expect(byId.get('start_has_end')).toMatchObject({ status: 'ok' });
    expect(byId.get('start_has_end')?.summary).toContain('1 still active on the server');
    expect(byId.get('wire_events')).toMatchObject({ status: 'ok' });
    expect(byId.get('server_writes_log')).toMatchObject({ status: 'ok' });
    expect(byId.get('endpoint_answers')).toMatchObject({ status: 'ok' });
    expect(code).toBe(0);

    await postJson(`${j.url}/v1/sessions/live-1/stop`, '');
    await running.finished;
  });

  it('with keys, reads the live streams with JARVIS_API_KEY (an admin key sees every key\'s)', async () => {
    const ops = 'ops-key-0123456789abcdefgh';
    j = await startTestJarvis({ JARVIS_API_KEYS: 'alice:alice-key-0123456789abcdef', JARVIS_ADMIN_KEYS: `ops:${ops}` });
    j.fake!.plan = (prompt) => ({ tokens: Array.from({ length: prompt === 'long' ? 2000 : 5 }, (_, i) => `${i} `), tokenMs: 10 });
    const running = chat(j.url, { session: 'live-k', prompt: 'long', headers: { authorization: 'Bearer alice-key-0123456789abcdef' } });
    await running.firstToken();
    await waitForLog(j.logFile, 'stream_start', { session: 'live-k' });
    // Without a key the server does not tell which streams run.
    expect((await report(['--url', j.url, '--log', j.logFile])).byId.get('start_has_end')?.summary).not.toContain('still active on the server');
    process.env.JARVIS_API_KEY = ops;
    try {
      const { byId } = await report(['--url', j.url, '--log', j.logFile]);
      expect(byId.get('start_has_end')?.summary).toContain('1 still active on the server');
    } finally {
      delete process.env.JARVIS_API_KEY;
    }
    running.abort();
    await running.finished;
  });

  it('names a lost orphan, and a log the server does not write to', async () => {
    j = await startTestJarvis();
    const other = join(mkdtempSync(join(tmpdir(), 'jarvis-diagnose-')), 'old.log');
    new LogBuilder().listening().start('gone1', 'sess-g').write(other);
    const { code, byId } = await report(['--url', j.url, '--log', other]);
    expect(code).toBe(1);
    expect(byId.get('start_has_end')?.evidence[0]?.text).toContain('gone1 (session sess-g)');
    expect(byId.get('start_has_end')?.evidence[0]?.text).toContain('LOST: not running on the server');
    expect(byId.get('server_writes_log')).toMatchObject({ status: 'problem' });
    expect(byId.get('server_writes_log')?.fix).toContain('JARVIS_LOG_FILE');
  });

  it('reports an unreachable server under "No logs at all"', async () => {
    j = await startTestJarvis();
    const url = j.url;
    const log = j.logFile;
    await j.close();
    j = undefined;
    const { code, byId } = await report(['--url', url, '--log', log]);
    expect(code).toBe(1);
    expect(byId.get('server_reachable')).toMatchObject({ status: 'problem' });
    expect(byId.get('server_reachable')?.summary).toContain('ECONNREFUSED');
    expect(byId.get('wire_events')?.status).toBe('skipped');
  });
});
