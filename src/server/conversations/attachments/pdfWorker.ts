import { parentPort, workerData } from 'node:worker_threads';
import { readPdf } from './pdfRead.js';

// The PDF thread (pdfText.ts starts one per PDF): reads one PDF's text and says what it found.

const { bytes, maxChars } = workerData as { bytes: Uint8Array; maxChars: number };
void readPdf(bytes, maxChars).then(
  (read) => parentPort!.postMessage(read),
  () => parentPort!.postMessage({ ok: false, why: 'the PDF cannot be read (it is damaged or not a PDF)' }),
);
