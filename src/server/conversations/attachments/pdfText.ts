import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { httpError } from '../../errors.js';
import { cut, type FileText } from './fileText.js';
import type { PdfRead } from './pdfRead.js';

// A PDF's text (docs/conversations.md "Attachments"), read in a process of its own: pdf.js parses
// synchronously, and a PDF made to be slow (a huge content stream, a deflate bomb, deep nesting)
// must hold neither the event loop every stream runs on nor the process's memory. A worker thread
// is not enough: one allocation past a thread's heap bound aborts the whole process (seen on
// Node 22). Each process has a heap bound and a time bound and is killed when it passes the time;
// at most PDF_PROCESSES read at once (the others wait their turn). It gets no environment: nothing
// of Jarvis's settings (keys, database URLs) is in reach of the parser.

/** How long one PDF may take to read. */
export const PDF_TIMEOUT_MS = 20_000;
/** The heap one PDF's process may use. */
const PDF_HEAP_MB = 256;
const PDF_PROCESSES = 2;

let running = 0;
const waiting: Array<() => void> = [];

export async function pdfText(name: string, bytes: Uint8Array, maxChars: number): Promise<FileText> {
  if (running >= PDF_PROCESSES) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    const read = await readInProcess(bytes, maxChars);
    if (!read.ok) throw httpError('invalid_attachment', { name, why: read.why });
    return cut(read.text, maxChars);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const UNREADABLE = 'the PDF cannot be read (it is damaged or not a PDF)';

function readInProcess(bytes: Uint8Array, maxChars: number): Promise<PdfRead> {
  return new Promise((resolve) => {
    const here = import.meta.url;
    const fromSources = here.endsWith('.ts');
    // From the TypeScript sources (the tests, `npm run dev`) the child loads tsx, as the process did.
    const tsx = fromSources ? ['--import', import.meta.resolve('tsx')] : [];
    const child = fork(fileURLToPath(new URL(`./pdfProcess.${fromSources ? 'ts' : 'js'}`, here)), [], {
      execArgv: [...tsx, `--max-old-space-size=${PDF_HEAP_MB}`],
      env: {},
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    let settled = false;
    const settle = (read: PdfRead) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve(read);
    };
    const timer = setTimeout(
      () => settle({ ok: false, why: `reading its text took longer than ${PDF_TIMEOUT_MS / 1000} s; attach a smaller PDF, or paste the part you need` }),
      PDF_TIMEOUT_MS,
    );
    child.on('message', (read: PdfRead) => settle(read));
    child.on('error', () => settle({ ok: false, why: UNREADABLE }));
    child.on('exit', (code, signal) =>
      settle({
        ok: false,
        // V8 out of memory aborts (SIGABRT; exit code 134 where a shell reports it).
        why:
          signal === 'SIGABRT' || code === 134
            ? `reading its text needed more than the ${PDF_HEAP_MB} MiB Jarvis gives one PDF; attach a smaller PDF, or paste the part you need`
            : UNREADABLE,
      }),
    );
    // A plain copy: a Buffer is a view into a larger pool, and pdf.js would read the whole pool.
    child.send({ bytes: new Uint8Array(bytes), maxChars });
  });
}
