import type { OutgoingMessage } from 'node:http';

/**
 * What a message's header block is replaced with once it has gone out. Node keeps the
 * block (`_header`) for a response's or a request's whole life only to answer
 * `headersSent` and to refuse a second `writeHead`; both only ask whether it is set.
 * An idle stream then holds one shared string instead of its own ~0.9 KB (the security
 * headers, its ids) on each of its two connections: docs/benchmark.md "Scale".
 */
const HEAD_SENT = 'HTTP/1.1 (sent)\r\n\r\n';

/**
 * Drops the text of a head Node has sent (a streamed reply's, with its first write; an
 * upstream request's, once its reply has begun). Cheap enough to call on every write.
 * `_header` is Node's own field: the suites on Node 22 and 24 check that it still works.
 */
export function releaseSentHead(message: OutgoingMessage): void {
  const raw = message as unknown as { _header?: unknown; _headerSent?: boolean };
  if (raw._headerSent === true && typeof raw._header === 'string' && raw._header !== HEAD_SENT) raw._header = HEAD_SENT;
}
