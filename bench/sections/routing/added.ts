import { targets, type Server } from '../../lib/setup.js';
import type { Target } from '../../lib/client.js';
import { ttft, type TtftRow } from '../ttft.js';
import type { ModelServer } from './servers.js';

/**
 * What routing adds to the time to first token: the same fake Ollama reached directly,
 * through Jarvis on it alone (JARVIS_BACKEND=ollama), and through Jarvis with
 * JARVIS_UPSTREAMS of it and a second server (both idle, every request a new session: each
 * goes to the first, the same server). Interleaved request by request (sections/ttft.ts);
 * the routed path's "added" is taken against Jarvis on one server, round by round.
 */
export async function routingTtft(a: ModelServer, single: Server, routed: Server, rounds: number, perRound: number): Promise<TtftRow[]> {
  const direct = targets(a, '', '', '').directOllama;
  const one: Target = { ...targets(a, single.url, '', '').jarvisNdjson, name: 'Jarvis NDJSON, one server (JARVIS_BACKEND=ollama)', baseline: direct };
  const two: Target = { ...targets(a, routed.url, '', '').jarvisNdjson, name: 'Jarvis NDJSON, two servers (JARVIS_UPSTREAMS)', baseline: one };
  return ttft([direct, one, two], rounds, perRound);
}
