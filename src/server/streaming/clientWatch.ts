import type { ServerResponse } from 'node:http';
import type { ChatStream } from '../../streams/chatStream.js';

const WATCHED = Symbol('jarvis.watchedStream');
type Watched = ServerResponse & { [WATCHED]?: ChatStream };

/**
 * Cancels `stream` (`client_closed`) when the client of `res` goes before its answer
 * was sent. The listener is one function for every response, the stream found on
 * the response: a long stream holds no closure for it (docs/benchmark.md "Scale").
 */
export function cancelWhenClientGoes(stream: ChatStream, res: ServerResponse): void {
  (res as Watched)[WATCHED] = stream;
  res.on('close', onClientClose);
  // Gone before we looked (while the body was parsed): no 'close' will come.
  if (res.req.socket?.destroyed) stream.cancel('client_closed');
}

function onClientClose(this: Watched): void {
  if (!this.writableFinished) this[WATCHED]?.cancel('client_closed');
}
