import { getDocumentProxy } from 'unpdf';

// A PDF's text, read with unpdf (pdf.js built for servers), in the PDF thread (pdfWorker.ts):
// pages one by one, stopping once `maxChars` are read, so a long PDF costs no more than its
// first pages. Words for a person when it cannot be read; no server imports (it runs in a thread).

export type PdfRead = { ok: true; text: string } | { ok: false; why: string };

interface TextItem {
  str?: string;
  hasEOL?: boolean;
}

export async function readPdf(bytes: Uint8Array, maxChars: number): Promise<PdfRead> {
  let pdf;
  try {
    pdf = await getDocumentProxy(bytes, { stopAtErrors: true, verbosity: 0 });
  } catch (err) {
    return { ok: false, why: whyUnreadable(err) };
  }
  try {
    let text = '';
    for (let n = 1; n <= pdf.numPages && text.length <= maxChars; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      for (const item of content.items as TextItem[]) {
        text += item.str ?? '';
        if (item.hasEOL) text += '\n';
      }
      text += '\n\n';
      page.cleanup();
    }
    text = text.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
    if (text === '') return { ok: false, why: 'the PDF has no text to read (a scan or images only); attach its pages as images instead' };
    return { ok: true, text };
  } catch (err) {
    return { ok: false, why: whyUnreadable(err) };
  } finally {
    await pdf.loadingTask.destroy().catch(() => undefined);
  }
}

function whyUnreadable(err: unknown): string {
  const kind = err instanceof Error ? err.name : '';
  if (kind === 'PasswordException') return 'the PDF is encrypted (it needs a password); attach a copy without a password';
  return 'the PDF cannot be read (it is damaged or not a PDF)';
}
