import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { formatLine, formatValue, parseLine } from '../../src/log/format.js';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, readLog, waitForLog } from '../helpers/log.js';

describe('log line format (docs/operations.md)', () => {
  it('writes `<ISO time> <LEVEL> <event> key=value`', () => {
    const line = formatLine(new Date('2026-01-26T10:00:00.000Z'), 'info', 'stream_start', { trace: 'abc123', session: 'sess-abc123', tokens: 3, ok: true, skipped: undefined });
    expect(line).toBe('2026-01-26T10:00:00.000Z INFO stream_start trace=abc123 session=sess-abc123 tokens=3 ok=true\n');
  });

  it('quotes values that could break a grep, so no input forges a line or a key', () => {
    expect(formatValue('plain-id_1.2:3')).toBe('plain-id_1.2:3');
    expect(formatValue('two words')).toBe('"two words"');
    expect(formatValue('a=b')).toBe('"a\\u003db"');
    expect(formatValue('line\nbreak')).toBe('"line\\nbreak"');
    expect(formatValue('"quoted"')).toBe('"\\"quoted\\""');
    expect(formatValue('')).toBe('""');
    const forged = 'x\n2026-01-01T00:00:00.000Z INFO stream_end trace=forged';
    const line = formatLine(new Date(), 'info', 'stream_start', { model: forged, 'bad key': 1 });
    expect(line.split('\n')).toHaveLength(2); // one line and the final newline
    expect(parseLine(line.trimEnd())?.fields).toEqual({ model: forged, invalid_key: '1' });
  });

  it('round-trips through parseLine', () => {
    const fields = { trace: 't1', text: 'He said "hi" = ok\t!', n: 5 };
    const parsed = parseLine(formatLine(new Date(0), 'debug', 'stream_token', fields).trimEnd());
    expect(parsed).toMatchObject({ level: 'DEBUG', event: 'stream_token', fields: { trace: 't1', text: fields.text, n: '5' } });
  });
});

describe('the system log of a running server', () => {
  let j: TestJarvis;
  afterEach(async () => {
    await j?.close();
  });

  it('a log-injection attempt through the model name and session header forges nothing', async () => {
    j = await startTestJarvis();
    const forged = 'x\n2026-01-01T00:00:00.000Z INFO stream_end trace=forged session=evil';
    const call = chat(j.url, { session: 'inj', body: { model: forged, messages: [{ role: 'user', content: 'hi' }] } });
    await call.finished;
    await postJson(`${j.url}/v1/chat/completions`, '{"messages":[{"role":"user","content":"hi"}]}', { 'x-session-id': 'a b="c" trace=forged' });
    await waitForLog(j.logFile, 'bad_request', { code: 'invalid_session_id' });
    await j.close();
    const text = readFileSync(j.logFile, 'utf8');
    for (const line of text.trimEnd().split('\n')) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARN|ERROR) [a-z_A-Z]+( |$)/);
    expect(events(j.logFile, 'stream_end', { trace: 'forged' })).toHaveLength(0);
    expect(text).not.toMatch(/^\S+ INFO stream_end trace=forged/m);
    const start = events(j.logFile, 'stream_start', { session: 'inj' })[0];
    expect(start?.fields.model).toBe(forged);
    expect(events(j.logFile, 'bad_request', { session: 'a b="c" trace=forged' })).toHaveLength(1);
  });

  it('per-token lines only at debug level', async () => {
    j = await startTestJarvis();
    const quiet = chat(j.url, { session: 'quiet', prompt: 'hi' });
    await quiet.finished;
    await j.close();
    expect(events(j.logFile, 'stream_token')).toHaveLength(0);

    j = await startTestJarvis({ JARVIS_LOG_LEVEL: 'debug' });
    const loud = chat(j.url, { session: 'loud', prompt: 'hi' });
    await loud.finished;
    const id = await loud.streamId;
    await j.close();
    const tokens = events(j.logFile, 'stream_token', { trace: id });
    expect(tokens).toHaveLength(20);
    expect(tokens[0]?.fields).toMatchObject({ stream_id: id, text: 'hi#0 ', seq: '0' });
  });

  it('the log directory is created if missing, and every line the operations greps look for is there', async () => {
    const dir = `/tmp/jarvis-logdir-${process.pid}-${Date.now()}/nested`;
    j = await startTestJarvis({ JARVIS_LOG_FILE: `${dir}/system.log` });
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 200 }, (_, i) => `${p}${i} `), tokenMs: 10 });
    const a = chat(j.url, { session: 'grep', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'grep', prompt: 'B' });
    await b.firstToken();
    await postJson(`${j.url}/v1/sessions/grep/stop`, '');
    await Promise.all([a.finished, b.finished]);
    await j.close();
    const names = new Set(readLog(j.logFile).map((l) => l.event));
    for (const e of ['stream_start', 'prev_stream_finished_cleanly', 'stream_cancelled', 'stream_cleanup_START', 'stream_registry_pop_success', 'stream_end']) {
      expect(names).toContain(e);
    }
  });
});
