// `GET /v1/models` and `/v1/models/{id}` in Anthropic's shape, for a request with an
// `anthropic-version` header (Anthropic's SDK sends it on every call; docs/anthropic.md).
// Other clients get OpenAI's list (src/server/operations/health.ts).

export interface AnthropicModelInfo {
  type: 'model';
  id: string;
  display_name: string;
  /** RFC 3339; upstreams do not say when a model was made: when this Jarvis started. */
  created_at: string;
}

export interface AnthropicModelPage {
  data: AnthropicModelInfo[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

export interface ModelPageQuery {
  limit?: string;
  after_id?: string;
  before_id?: string;
}

export function anthropicModel(id: string, startedAt: number): AnthropicModelInfo {
  return { type: 'model', id, display_name: id, created_at: new Date(startedAt).toISOString() };
}

/** One page, as Anthropic pages: `limit` (1-1000, default 20) after `after_id` or before `before_id`. */
export function anthropicModelPage(ids: string[], startedAt: number, query: ModelPageQuery): AnthropicModelPage {
  const parsed = Number(query.limit ?? 20);
  const limit = Number.isInteger(parsed) ? Math.min(Math.max(parsed, 1), 1000) : 20;
  let from = 0;
  let to = ids.length;
  if (query.after_id !== undefined) from = ids.indexOf(query.after_id) + 1;
  if (query.before_id !== undefined) {
    const at = ids.indexOf(query.before_id);
    to = at < 0 ? ids.length : at;
    from = Math.max(from, to - limit);
  }
  const page = ids.slice(from, Math.min(to, from + limit));
  const data = page.map((id) => anthropicModel(id, startedAt));
  const hasMore = query.before_id !== undefined ? from > 0 : from + page.length < to;
  return { data, has_more: hasMore, first_id: page[0] ?? null, last_id: page.at(-1) ?? null };
}

export function wantsAnthropicShape(headers: Record<string, unknown>): boolean {
  return headers['anthropic-version'] !== undefined;
}
