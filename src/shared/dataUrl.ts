// A base64 `data:` URL's size, from its length alone (nothing decoded): how the server checks a
// file's or an image's bytes before decoding it, and how the UI shows a file it sends.
// Keep it free of Node- or DOM-only imports.

/** The bytes the base64 after the URL's first comma decodes to (0 without a comma). */
export function dataUrlSize(url: string): number {
  const comma = url.indexOf(',');
  if (comma === -1) return 0;
  let length = url.length - comma - 1;
  while (length > 0 && url.charCodeAt(comma + length) === 61 /* = */) length--;
  return Math.floor((length * 3) / 4);
}
