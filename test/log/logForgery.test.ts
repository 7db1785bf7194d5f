import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Report } from '../../src/diagnostics/report/report.js';
import { LOG_EVENTS } from '../../src/log/events.js';
import { formatLine, formatValue, parseLine, type LogFields } from '../../src/log/format.js';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// No value can split a log line or read as another field or event: not for
// `jarvis diagnose`, not for the greps of docs/operations.md (docs/security.md "A log that cannot be forged").

/** What `grep -c PATTERN` counts: lines (split at \n only) the pattern matches. */
function grepCount(text: string, pattern: RegExp): number {
  return text.split('\n').filter((line) => line !== '' && pattern.test(line)).length;
}

// What an attacker puts in a value: every line or paragraph separator, controls, quotes,
// `key=value` text, event names in any case, lone surrogates, non-ASCII.
const HOSTILE = [
  'stream_end', 'stream_start', 'STREAM_END', 'prev_stream', 'stream_registry_pop', ' ', '=', '"', '\\', '\\"', '\\u005f',
  '\n', '\r', '\r\n', '\u2028', '\u2029', '\u0085', '\v', '\f', '\u0000', '\u001b', '\u007f', '\u009b', '\u00a0', '\ufeff', '\u202e',
  '\ud800', '\udc00', '😀', 'é', ' reason=done', ' trace=forged', ' session=evil', '2026-01-01T00:00:00.000Z INFO stream_end trace=x',
  'abc', '-', '_', '.',
];
const hostileValue = fc.array(fc.constantFrom(...HOSTILE), { maxLength: 8 }).map((parts) => parts.join(''));
const value = fc.oneof(hostileValue, fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.integer(), fc.boolean());
// Keys are the server's own names, never input.
const KEYS = ['trace', 'session', 'user', 'model', 'reason', 'error', 'new_trace', 'stream_id', 'text'];
const fields = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 6 });
const events = fc.constantFrom('stream_start', 'stream_end', 'stream_token', 'bad_request', 'session_stop', 'session_stop_sent', 'prev_stream_finished_cleanly');

describe('a log line cannot be forged (property)', () => {
  it('any values: one printable-ASCII line that parses back to the same fields', () => {
    fc.assert(
      fc.property(events, fields, (event, f: LogFields) => {
        const line = formatLine(new Date(0), 'info', event, f);
        expect(line.endsWith('\n')).toBe(true);
        const body = line.slice(0, -1);
        // Nothing any tool could take for a line end (or render deceptively): printable ASCII only.
        expect(body).toMatch(/^[\x20-\x7e]*$/);
        const parsed = parseLine(body);
        expect(parsed?.event).toBe(event);
        expect(parsed?.fields).toEqual(Object.fromEntries(Object.entries(f).map(([k, v]) => [k, String(v)])));
        // Each key reads once: `key=` text in a value never reads as a field (awk -F'session=').
        for (const k of Object.keys(f)) expect(body.split(` ${k}=`)).toHaveLength(2);
      }),
      { numRuns: 2000 },
    );
  });

  it('any values: a grep for an event name counts exactly the lines of that event', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(events, fields), { maxLength: 20 }), (lines) => {
        const text = lines.map(([event, f]) => formatLine(new Date(0), 'info', event, f)).join('');
        for (const name of LOG_EVENTS) {
          const real = lines.filter(([event]) => event.includes(name)).length;
          expect(grepCount(text, new RegExp(name))).toBe(real);
          expect(grepCount(text, new RegExp(name, 'i'))).toBe(real);
        }
        // The operations grep `grep 'stream_end .*reason=done'` (docs/operations.md).
        const done = lines.filter(([event, f]) => event === 'stream_end' && f.reason === 'done').length;
        expect(grepCount(text, /stream_end .*reason=done/)).toBe(done);
      }),
      { numRuns: 500 },
    );
  });

  it('the escapes: JSON strings, `=` and `_` of event words as \\u, plain values bare', () => {
    expect(formatValue('sess-abc123')).toBe('sess-abc123');
    expect(formatValue('client_closed')).toBe('client_closed');
    expect(formatValue('a=b')).toBe('"a\\u003db"');
    expect(formatValue('a\u2028b')).toBe('"a\\u2028b"');
    expect(formatValue('é')).toBe('"\\u00e9"');
    expect(formatValue('stream_end')).toBe('"stream\\u005fend"');
    expect(formatValue('x "stream_end" y')).toBe('"x \\"stream\\u005fend\\" y"');
    // A line cut short mid-value (a full disk) still parses: the cut value as it is.
    expect(parseLine('2026-01-01T00:00:00.000Z INFO stream_start trace=t1 user="abc')?.fields).toEqual({ trace: 't1', user: '"abc' });
  });

  it('every event the server logs is in src/log/events.ts, and has an `_`', () => {
    const sources: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts')) sources.push(readFileSync(path, 'utf8'));
      }
    };
    walk(join(import.meta.dirname, '..', '..', 'src'));
    const logged = new Set<string>();
    for (const text of sources) {
      for (const m of text.matchAll(/(?<!redis)\.(?:debug|info|warn|error)\(\s*'([A-Za-z0-9_]+)'/g)) logged.add(m[1] as string);
      for (const m of text.matchAll(/formatLine\([^,]+,\s*'[a-z]+',\s*'([A-Za-z0-9_]+)'/g)) logged.add(m[1] as string);
    }
    expect(logged.size).toBeGreaterThan(40);
    expect([...logged].filter((e) => !LOG_EVENTS.includes(e))).toEqual([]);
    expect(LOG_EVENTS.filter((e) => !e.includes('_'))).toEqual([]);
  });
});

describe('a forged log, found in the field: 22 streams, hostile `user` and `model`', () => {
  let j: TestJarvis | undefined;
  afterEach(async () => {
    await j?.close();
    j = undefined;
  });

  it('diagnose counts 22 starts and 22 ends, and so does `grep -c stream_end`', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    const hostile: Array<{ user?: string; model?: string }> = [
      { user: 'alice\u2028bob' },
      { user: 'x "stream_end" y' },
      { user: 'eve stream_end trace=forged reason=done' },
      { model: 'fake\u2028model' },
    ];
    const model = j.fake!.models[0] as string;
    // The upstream knows the hostile model name too: the stream runs to `done` like the others.
    j.fake!.models.push('fake\u2028model');
    for (let i = 0; i < 22; i++) {
      const extra = hostile[i] ?? {};
      const call = chat(j.url, { session: `forge-${i}`, body: { model: extra.model ?? model, user: extra.user, messages: [{ role: 'user', content: 'hi' }] } });
      const events = await call.finished;
      expect(events.at(-1)).toMatchObject({ type: 'done' });
    }
    const server = j;
    j = undefined;
    await server.close();

    const text = readFileSync(server.logFile, 'utf8');
    expect(grepCount(text, /stream_start/)).toBe(22);
    expect(grepCount(text, /stream_end/)).toBe(22);
    expect(grepCount(text, /stream_end .*reason=done/)).toBe(22);
    // What each line says is what was sent.
    const users = text.split('\n').map((l) => parseLine(l)).filter((l) => l?.event === 'stream_start').map((l) => l?.fields.user);
    for (const h of hostile) if (h.user) expect(users).toContain(h.user);

    let out = '';
    await diagnoseCommand(['--log', server.logFile, '--json'], (t) => (out += t));
    const report = JSON.parse(out) as Report;
    const checks = new Map(report.sections.flatMap((s) => s.checks.map((c) => [c.id, c] as const)));
    expect(checks.get('start_has_end')?.summary).toContain('22 stream_start, 22 stream_end');
    expect(JSON.stringify(report)).not.toContain('not in the log format');
  });
});
