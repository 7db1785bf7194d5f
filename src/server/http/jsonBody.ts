import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors.js';
import { MAX_JSON_DEPTH, exceedsJsonDepth } from './jsonDepth.js';

/**
 * Parses every body as JSON whatever its Content-Type says: the documented
 * `curl -d '{…}'` (docs/api.md) sends `application/x-www-form-urlencoded`.
 */
export function parseAnyBodyAsJson(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // An empty body is no body: routes that need one say so through their schema.
    if (text.trim() === '') return done(null, undefined);
    if (exceedsJsonDepth(text)) {
      return done(new HttpError(400, 'json_too_deep', `request body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new HttpError(400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}
