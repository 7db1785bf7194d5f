/** Every GGUF file starts with these four bytes (ggml's gguf.h: GGUF_MAGIC). */
export const GGUF_MAGIC = Buffer.from('GGUF', 'latin1');

export function isGguf(head: Buffer): boolean {
  return head.length >= 4 && head.subarray(0, 4).equals(GGUF_MAGIC);
}

/** What a file that is not GGUF looks like, to say it in words (an HTML page is the usual one). */
export function describeNotGguf(head: Buffer, contentType: string | null): string {
  const text = head.toString('latin1');
  const printable = /^[\x20-\x7e\t\r\n]*$/.test(text);
  const shown = printable ? JSON.stringify(text) : `bytes ${head.toString('hex').replace(/(..)(?=.)/g, '$1 ')}`;
  const type = contentType ? `, sent as ${contentType.split(';')[0]}` : '';
  const looksLikePage = /html/i.test(contentType ?? '') || /^\s*</.test(text);
  const hint = looksLikePage
    ? ' It looks like a web page: use the file\'s download link (on Hugging Face .../resolve/main/<file>.gguf, not .../blob/main/…).'
    : ' Jarvis\'s embedded engine reads GGUF only (docs/embedded.md).';
  return `it is not a GGUF file (it starts with ${shown}${type}, a GGUF file starts with "GGUF").${hint}`;
}
