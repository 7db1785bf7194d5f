import { readPdf } from './pdfRead.js';

// The PDF process (pdfText.ts starts one per PDF): reads the one PDF it is sent and says what it
// found. Its own process, so that a PDF made to exhaust memory ends this process, not Jarvis.

process.once('message', (message: { bytes: Uint8Array; maxChars: number }) => {
  void readPdf(message.bytes, message.maxChars)
    .catch(() => ({ ok: false, why: 'the PDF cannot be read (it is damaged or not a PDF)' }))
    .then((read) => process.send!(read, () => process.exit(0)));
});
