import type { FastifyReply } from 'fastify';

/** Aborts when the client goes before its answer was sent: the upstream call it waits on is then cut too. */
export function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const res = reply.raw;
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}
