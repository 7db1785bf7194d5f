// Redis keys of the cluster (docs/clusters.md). Everything about one
// session shares one hash tag, `{owner/session}`, so each Lua script touches one
// slot (Redis Cluster-safe). Key names ([A-Za-z0-9._-]) and session ids
// ([A-Za-z0-9._:-]) contain neither `/` nor braces.

/** The prefix of a session's keys: `jarvis:{owner/session}:`. */
export function sessionPrefix(owner: string, sessionId: string): string {
  return `jarvis:{${owner}/${sessionId}}:`;
}

export const keys = {
  /** The session's current stream: `<stream> <fence> <instance>`. */
  current: (p: string) => `${p}cur`,
  /** The session's fence counter: only grows (seeded from the clock). */
  fence: (p: string) => `${p}fence`,
  /** A stream's record (hash): fence, owner, session, model, inst, term (its terminal event), stop (a stop marker's reason). */
  meta: (p: string, streamId: string) => `${p}meta:${streamId}`,
  /** The owner instance's hold on a stream: its fence, with a TTL of the lease. */
  lease: (p: string, streamId: string) => `${p}lease:${streamId}`,
  /** A stream's event log (a Redis Stream; entry ids encode cursors). */
  log: (p: string, streamId: string) => `${p}log:${streamId}`,
  /** Stream id → its session prefix, for readers that know only the stream. */
  stream: (streamId: string) => `jarvis:stream:${streamId}`,
  /** A stream's span's `traceparent`, when tracing is on: where a successor or reader on any instance links to it (docs/observability.md). */
  trace: (streamId: string) => `jarvis:trace:${streamId}`,
  /** The run_id of the Redis server that first held this data (no TTL): a new run_id with this equal to it came back empty. */
  epoch: 'jarvis:epoch',
  /** Instances seen lately (sorted set, score = last seen, ms). */
  instances: 'jarvis:instances',
  /** An instance's live streams as JSON, for /debug/streams on any instance. */
  debug: (instance: string) => `jarvis:debug:${instance}`,
};

export const channels = {
  /** `<stream> <reason>`: the owner cancels the stream (it also polls the stop marker). */
  stop: 'jarvis:stop',
  /** `<stream>`: the stream's owner has let it go; a waiting successor may start. */
  released: 'jarvis:released',
};
