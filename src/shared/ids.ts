// The one pattern every id a client may choose or send back must match: session ids
// (X-Session-Id), conversation ids, message ids and stream ids in URLs (docs/api.md).
// Written once here; the server's routes and guards, the web UI and the CLI import it.

/** The pattern as JSON Schema text (Fastify route schemas take a string). */
export const ID_PATTERN_SOURCE = '^[A-Za-z0-9._:-]{1,128}$';

export const ID_PATTERN = new RegExp(ID_PATTERN_SOURCE);

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
