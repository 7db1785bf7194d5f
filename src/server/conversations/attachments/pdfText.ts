import { httpError } from '../../errors.js';
import { startWorkerThread } from '../../../workerThread.js';
import { cut, type FileText } from './fileText.js';
import type { PdfRead } from './pdfRead.js';

// A PDF's text (docs/conversations.md "Attachments"), read in a thread of its own: pdf.js does
// its parsing synchronously, and a PDF made to be slow (a huge content stream, a deflate bomb,
// deep object nesting) must not hold the event loop every stream runs on, nor the process's
// memory. Each thread has a heap bound and a time bound and is ended when either is passed; at
// most PDF_THREADS read at once (the others wait their turn).

/** How long one PDF may take to read. */
export const PDF_TIMEOUT_MS = 20_000;
/** The heap one PDF's thread may use. */
const PDF_HEAP_MB = 256;
const PDF_THREADS = 2;

let running = 0;
const waiting: Array<() => void> = [];

export async function pdfText(name: string, bytes: Uint8Array, maxChars: number): Promise<FileText> {
  if (running >= PDF_THREADS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    const read = await readInThread(bytes, maxChars);
    if (!read.ok) throw httpError('invalid_attachment', { name, why: read.why });
    return cut(read.text, maxChars);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function readInThread(bytes: Uint8Array, maxChars: number): Promise<PdfRead> {
  return new Promise((resolve) => {
    // pdf.js takes the buffer over: the thread gets its own copy.
    const worker = startWorkerThread(import.meta.url, 'pdfWorker', {
      workerData: { bytes: new Uint8Array(bytes), maxChars },
      resourceLimits: { maxOldGenerationSizeMb: PDF_HEAP_MB, maxYoungGenerationSizeMb: 32 },
    });
    let settled = false;
    const settle = (read: PdfRead) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(read);
    };
    const timer = setTimeout(
      () => settle({ ok: false, why: `reading its text took longer than ${PDF_TIMEOUT_MS / 1000} s; attach a smaller PDF, or paste the part you need` }),
      PDF_TIMEOUT_MS,
    );
    worker.on('message', (read: PdfRead) => settle(read));
    worker.on('error', (err: Error & { code?: string }) =>
      settle({
        ok: false,
        why:
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `reading its text needed more than the ${PDF_HEAP_MB} MiB Jarvis gives one PDF; attach a smaller PDF, or paste the part you need`
            : 'the PDF cannot be read (it is damaged or not a PDF)',
      }),
    );
    worker.on('exit', () => settle({ ok: false, why: 'the PDF cannot be read (it is damaged or not a PDF)' }));
  });
}
