import type { ServerResponse } from 'node:http';
import { corsHeaders } from './guards/cors.js';
import { SECURITY_HEADERS } from './guards/securityHeaders.js';

const SECURITY_FLAT: readonly string[] = Object.freeze(SECURITY_HEADERS.flat());

/**
 * The status line and headers of a reply written to the raw response after
 * `reply.hijack()` (streams, reattach, the conversation feed): the security and
 * CORS headers every other reply gets from its hooks (hijack drops those), then
 * the reply's own. Every hijacking writer sends its head here, so they all carry
 * the same headers as a normal reply.
 *
 * A streamed reply holds its head for its whole life, so it is kept small: the
 * headers go to `writeHead` in one flat list (nothing was set on the response
 * before, so Node stores no [name, value] pair per header), and the header block
 * Node builds by appending piece by piece (a tree of ~90 string pieces) is
 * flattened into one string.
 */
export function writeStreamHead(res: ServerResponse, status: number, headers: Readonly<Record<string, string>>): void {
  const list = [...SECURITY_FLAT, ...corsHeaders(res.req.headers.origin)];
  for (const name in headers) list.push(name, headers[name]!);
  res.writeHead(status, list);
  flattenHeaderBlock(res);
}

/** Reading a character makes V8 flatten the string in place: the pieces become garbage. */
function flattenHeaderBlock(res: ServerResponse): void {
  const block = (res as unknown as { _header?: unknown })._header;
  if (typeof block === 'string' && block.length > 0) block.charCodeAt(0);
}
