// Local ids for drafts and messages until the server gives theirs; they match ID_PATTERN
// (src/shared/ids.ts), so they are valid session ids too.
// crypto.getRandomValues, not randomUUID: the latter needs a secure context, and
// Jarvis is often opened over plain http on a LAN address.

export function randomId(prefix: string): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
