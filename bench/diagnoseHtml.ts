// `jarvis diagnose --html` on a million lines (docs/observability.md "A report to attach"):
// writes three instances' logs of a busy cluster at debug level (tokens, supersedes, Stops,
// sessions handed from one instance to another, a few request errors, one planted orphan),
// then runs the command in a process of its own and prints its time, CPU, peak RSS and the
// report's size.
//
//   node --import tsx bench/diagnoseHtml.ts [--lines 1000000] [--dir DIR] [--template FILE] [--max-streams N]
//
// Not a test: it takes tens of seconds and a few hundred MB of disk.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { diagnoseCommand } from '../src/cli/diagnoseCommand.js';
import { formatLine, type LogFields } from '../src/log/format.js';

const INSTANCES = ['i1', 'i2', 'i3'];
const SESSIONS = 6000;
const TOKENS = 5;

interface Out {
  stream: WriteStream;
  buffer: string;
}

/** Writes about `lines` lines across the instances' logs; returns the files and the lines written. */
async function writeLogs(dir: string, lines: number): Promise<{ files: string[]; written: number; streams: number; handovers: number }> {
  const outs = new Map<string, Out>(INSTANCES.map((i) => [i, { stream: createWriteStream(join(dir, `${i}.log`)), buffer: '' }]));
  let t = Date.parse('2026-03-02T08:00:00.000Z');
  let written = 0;
  const emit = async (instance: string, level: 'debug' | 'info' | 'warn', event: string, fields: LogFields) => {
    const out = outs.get(instance) as Out;
    out.buffer += formatLine(new Date(t), level, event, { ...fields, instance });
    written++;
    if (out.buffer.length > 1 << 16) {
      if (!out.stream.write(out.buffer)) await once(out.stream, 'drain');
      out.buffer = '';
    }
  };
  const tokens = async (instance: string, trace: string, n = TOKENS) => {
    for (let seq = 0; seq < n; seq++) {
      t += 1;
      await emit(instance, 'debug', 'stream_token', { trace, stream_id: trace, seq, text: `tok${seq} ` });
    }
  };
  const start = (instance: string, trace: string, session: string) => emit(instance, 'info', 'stream_start', { trace, session, stream_id: trace, model: 'llama3.2', backend: 'ollama', key: 'team' });
  const end = async (instance: string, trace: string, session: string, reason: string) => {
    await emit(instance, 'info', 'stream_cleanup_START', { trace });
    await emit(instance, 'info', 'stream_registry_pop_success', { trace });
    const close = reason === 'done' ? 'complete' : 'upstream_closed';
    await emit(instance, 'info', 'stream_end', { trace, session, reason, ...(reason === 'done' ? { finish: 'stop' } : {}), tokens: TOKENS, duration_ms: 900, ttft_ms: 120, upstream_close: close, upstream_close_ms: 2, upstream_request_ms: 3.2, upstream_ms: 118.5, first_byte_ms: 119.1, jarvis_ms: 0.4 });
  };
  for (const i of INSTANCES) await emit(i, 'info', 'server_listening', { url: `http://127.0.0.1:800${i.slice(1)}`, backend: 'ollama', model: 'llama3.2' });
  const owner = new Map<number, string>();
  let streams = 0;
  let handovers = 0;
  for (let n = 0; written < lines; n++) {
    const s = n % SESSIONS;
    const session = `sess-${s}`;
    const here = owner.get(s) ?? (INSTANCES[s % INSTANCES.length] as string);
    const trace = `${(Math.imul(n, 2654435761) >>> 0).toString(16).padStart(8, '0')}${n.toString(16).padStart(8, '0')}`;
    t += 5;
    streams++;
    await start(here, trace, session);
    if (n === Math.floor(lines / 40)) {
      // The planted orphan: a stream_start whose stream_end never comes.
      await emit(here, 'info', 'upstream_routed', { trace, upstream: 'gpu-a', waited_ms: 0, affinity: 'new' });
      continue;
    }
    if (n % 10 === 3) {
      // A re-prompt supersedes it: on the same instance, or every third time on another (a handover).
      const there = n % 30 === 3 ? (INSTANCES[(INSTANCES.indexOf(here) + 1) % INSTANCES.length] as string) : here;
      const next = `${trace}1`;
      await tokens(here, trace, 2);
      t += 40;
      streams++;
      await start(there, next, session);
      if (there !== here) await emit(here, 'info', 'stream_stop_signal', { trace, reason: 'superseded' });
      await emit(here, 'info', 'stream_cancelled', { trace, session, reason: 'superseded', tokens: 2 });
      t += 3;
      await end(here, trace, session, 'superseded');
      await emit(there, 'info', 'prev_stream_finished_cleanly', { trace, new_trace: next, session, waited_ms: 3 });
      if (there !== here) {
        handovers++;
        owner.set(s, there);
      }
      await tokens(there, next);
      t += 300;
      await end(there, next, session, 'done');
    } else if (n % 10 === 7) {
      await tokens(here, trace, 3);
      t += 100;
      await emit(here, 'info', 'session_stop', { session, key: 'team', stopped: 1 });
      await emit(here, 'info', 'stream_cancelled', { trace, session, reason: 'stopped', tokens: 3 });
      t += 2;
      await end(here, trace, session, 'stopped');
    } else {
      await tokens(here, trace);
      t += 300;
      await end(here, trace, session, 'done');
    }
    if (n % 97 === 0) await emit(here, 'info', 'bad_request', { method: 'POST', url: '/v1/chat/completions', status: 400, code: 'invalid_request', error: 'messages: expected an array', key: 'team' });
  }
  for (const out of outs.values()) {
    out.stream.end(out.buffer);
    await once(out.stream, 'finish');
  }
  return { files: INSTANCES.map((i) => join(dir, `${i}.log`)), written, streams, handovers };
}

/** The child: runs the command as `jarvis diagnose` does and prints its figures. */
async function measure(argv: string[], template: string | undefined): Promise<void> {
  const started = performance.now();
  let text = '';
  const code = await diagnoseCommand(argv, (t) => (text += t), { reportTemplate: template });
  const ms = Math.round(performance.now() - started);
  const cpu = process.cpuUsage();
  const report = /Report: .* \((\d+) lifecycle lines, (\d+) findings/.exec(text);
  process.stdout.write(JSON.stringify({ code, ms, cpuMs: Math.round((cpu.user + cpu.system) / 1000), maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), records: Number(report?.[1]), findings: Number(report?.[2]) }) + '\n');
}

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    dir: { type: 'string' },
    template: { type: 'string' },
    'max-streams': { type: 'string' },
    child: { type: 'boolean', default: false },
  },
  allowPositionals: true,
  strict: false,
});

if (values.child) {
  const rest = process.argv.slice(process.argv.indexOf('--') + 1);
  await measure(rest, typeof values.template === 'string' ? values.template : undefined);
} else {
  const dir = typeof values.dir === 'string' ? values.dir : mkdtempSync(join(tmpdir(), 'jarvis-diagnose-html-'));
  const writeStarted = performance.now();
  const logs = await writeLogs(dir, Number(values.lines));
  const size = logs.files.reduce((n, f) => n + statSync(f).size, 0);
  console.log(`wrote ${logs.written} lines (${logs.streams} streams, ${logs.handovers} handovers, ${(size / 1e6).toFixed(0)} MB) in ${dir} in ${Math.round(performance.now() - writeStarted)} ms`);
  const out = join(dir, 'report.html');
  const args = ['--log', dir, '--html', out, ...(typeof values['max-streams'] === 'string' ? ['--max-streams', values['max-streams']] : [])];
  const self = new URL(import.meta.url).pathname;
  const result = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', ...(typeof values.template === 'string' ? ['--template', values.template] : []), '--', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const figures = JSON.parse(result.trim().split('\n').at(-1) as string) as Record<string, number>;
  console.log(`jarvis diagnose ${args.join(' ')}`);
  console.log(`  ${figures.ms} ms (${figures.cpuMs} ms CPU), peak RSS ${figures.maxRssMb} MB, exit ${figures.code}`);
  console.log(`  report: ${(statSync(out).size / 1e6).toFixed(1)} MB, ${figures.records} lifecycle lines, ${figures.findings} findings`);
}
