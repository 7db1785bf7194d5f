import type { FastifyInstance } from 'fastify';
import type { UsageJson, UsageRowJson } from '../../shared/team/admin.js';
import type { UsageEntry, UsageQuery } from '../../store/usage/types.js';
import type { JarvisContext } from '../context.js';
import { HttpError } from '../errors.js';
import { ownerOf, principalOf, seesAll } from '../http/guards/principal.js';
import { storeCall } from '../storeErrors.js';
import { DAY_MS, today } from '../limits/limiter.js';
import { usageRowJson } from './json.js';

/** Days one request may span: a year and a bit, so a year's report is one call. */
const MAX_DAYS = 400;
/** The days shown when none are asked for: the last 30, today included. */
const DEFAULT_DAYS = 30;
const DAY = '^\\d{4}-\\d{2}-\\d{2}$';

interface UsageQueryString {
  from?: string;
  to?: string;
  owner?: string;
  key_id?: string;
}

/**
 * `GET /v1/usage` (docs/api.md "Usage"): requests, tokens and stream time per key, model and
 * UTC day. A caller sees its own owner's rows (every key it owns); an admin sees everyone's
 * and may narrow them to one owner or key. What the last second's requests added may not be
 * there yet (the record is written once a second).
 */
export function usageRoutes(app: FastifyInstance, ctx: Pick<JarvisContext, 'store' | 'usage'>): void {
  app.get<{ Querystring: UsageQueryString }>(
    '/v1/usage',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'string', pattern: DAY },
            to: { type: 'string', pattern: DAY },
            owner: { type: 'string', maxLength: 256 },
            key_id: { type: 'string', maxLength: 256 },
          },
        },
      },
    },
    async (request): Promise<UsageJson> => {
      const q = request.query;
      const to = q.to ?? today();
      const from = q.from ?? new Date(Date.parse(to) - (DEFAULT_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
      for (const [name, day] of [['from', from], ['to', to]] as const) {
        if (Number.isNaN(Date.parse(day)) || new Date(Date.parse(day)).toISOString().slice(0, 10) !== day) {
          throw new HttpError('invalid_request', `${name} must be a day as YYYY-MM-DD, got ${JSON.stringify(day)}`, { param: name });
        }
      }
      if (from > to) throw new HttpError('invalid_request', `from (${from}) is after to (${to})`, { param: 'from' });
      if ((Date.parse(to) - Date.parse(from)) / DAY_MS >= MAX_DAYS) throw new HttpError('invalid_request', `from..to spans more than ${MAX_DAYS} days; ask for fewer`, { param: 'from' });
      const principal = principalOf(request);
      const query: UsageQuery = { from, to, ...(q.key_id === undefined ? {} : { keyId: q.key_id }) };
      if (!seesAll(principal)) {
        // Not an admin: its own owner's rows only; another owner's come back empty, as if it had none.
        const own = ownerOf(principal);
        if (q.owner !== undefined && q.owner !== own) return usageJson(from, to, []);
        query.owner = own;
      } else if (q.owner !== undefined) query.owner = q.owner;
      // What this instance has not written yet is written first, so its own last requests show.
      await ctx.usage.flush();
      const rows = await storeCall(ctx.store.usage.list(query));
      return usageJson(from, to, rows);
    },
  );
}

function usageJson(from: string, to: string, rows: UsageEntry[]): UsageJson {
  const totals = { requests: 0, prompt_tokens: 0, completion_tokens: 0, stream_ms: 0 };
  const data = rows.map((r): UsageRowJson => {
    totals.requests += r.requests;
    totals.prompt_tokens += r.promptTokens;
    totals.completion_tokens += r.completionTokens;
    totals.stream_ms += r.streamMs;
    return usageRowJson(r);
  });
  return { object: 'usage', from, to, data, totals };
}
