import { getDocumentProxy } from 'unpdf';
import { HttpError, httpError } from '../../errors.js';
import { cut, type FileText } from './fileText.js';

// A PDF's text, read with unpdf (pdf.js built for servers): only the text is kept, not the
// PDF (docs/conversations.md "Attachments"). Pages are read one by one and reading stops
// once the text kept per file is reached, so a long PDF costs no more than its first pages.

interface TextItem {
  str?: string;
  hasEOL?: boolean;
}

export async function pdfText(name: string, bytes: Uint8Array, maxChars: number): Promise<FileText> {
  let pdf;
  try {
    // pdf.js takes the buffer over: it gets its own copy.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { stopAtErrors: true, verbosity: 0 });
  } catch (err) {
    throw httpError('invalid_attachment', { name, why: whyUnreadable(err) });
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
    if (text === '') throw httpError('invalid_attachment', { name, why: 'the PDF has no text to read (a scan or images only); attach its pages as images instead' });
    return cut(text, maxChars);
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw httpError('invalid_attachment', { name, why: whyUnreadable(err) });
  } finally {
    await pdf.loadingTask.destroy().catch(() => undefined);
  }
}

function whyUnreadable(err: unknown): string {
  const kind = err instanceof Error ? err.name : '';
  if (kind === 'PasswordException') return 'the PDF is encrypted (it needs a password); attach a copy without a password';
  return 'the PDF cannot be read (it is damaged or not a PDF)';
}
