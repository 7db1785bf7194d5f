import type { UsageRowJson } from '../../shared/team/admin.js';
import type { UsageEntry } from '../../store/usage/types.js';

/** One row of the usage record on the wire (`GET /v1/usage`, a person's export). */
export function usageRowJson(r: UsageEntry): UsageRowJson {
  return {
    day: r.day,
    owner: r.owner,
    key_id: r.keyId,
    key_name: r.keyName,
    model: r.model,
    requests: r.requests,
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    stream_ms: r.streamMs,
    sources: { reported: r.reported, counted: r.counted },
  };
}
