import type { FastifyInstance } from 'fastify';
import { httpError } from '../errors.js';
import { MAX_JSON_DEPTH, exceedsJsonDepth } from './jsonDepth.js';

/**
 * Parses every body as JSON whatever its Content-Type says: the `curl -d '{…}'`
 * of docs/api.md sends `application/x-www-form-urlencoded`.
 */
export function parseAnyBodyAsJson(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // An empty body is no body: routes that need one say so through their schema.
    if (text.trim() === '') return done(null, undefined);
    if (exceedsJsonDepth(text)) {
      return done(httpError('json_too_deep', { max: MAX_JSON_DEPTH }), undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(httpError('invalid_json', { reason: (err as Error).message }), undefined);
    }
  });
}
