import type { FastifyInstance } from 'fastify';
import { StartPacer } from '../../../streams/startPacer.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on a route whose request starts a stream: its handling is paced (see paceStreamStarts). */
    startsStream?: boolean;
  }
}

/**
 * How many stream-starting requests are handled per event-loop turn. Each costs
 * about half a millisecond of CPU before its upstream is asked (hooks, security and
 * CORS headers, body parse and validation, caps, registry); 8 keep a turn short.
 */
export const ADMISSIONS_PER_TURN = 8;

/**
 * Paces the handling of requests that start a stream (routes marked `startsStream`).
 * A burst of thousands of them, arriving in one read of the sockets, would otherwise
 * be handled in one go, and `/health` (never paced), a stop, or a running stream's
 * tokens would wait behind them all. Here only the HTTP parse and routing happen on
 * arrival; the rest of a start runs at most `perTurn` per turn, in arrival order.
 * (The upstream half of a start is paced as well, by the runStream's own pacer.)
 * Registered before the other guards, so a queued request costs nothing more yet.
 */
export function paceStreamStarts(app: FastifyInstance, perTurn = ADMISSIONS_PER_TURN): StartPacer {
  const pacer = new StartPacer(perTurn);
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config.startsStream !== true) return done();
    const turn = pacer.turn();
    if (turn) void turn.then(() => done());
    else done();
  });
  return pacer;
}
