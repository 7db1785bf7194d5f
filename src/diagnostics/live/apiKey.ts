/**
 * The key the CLI (`jarvis diagnose --url`, `jarvis matrix`) sends to a Jarvis that has
 * JARVIS_API_KEYS: JARVIS_API_KEY from the environment, never a flag (so it stays out
 * of shell history and `ps`). An admin key lets diagnose see every key's streams.
 */
export function authHeaders(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const key = env.JARVIS_API_KEY?.trim();
  return key ? { authorization: `Bearer ${key}` } : {};
}
