import { afterEach, describe, expect, it } from 'vitest';
import type { CreatedApiKeyJson } from '../../src/shared/team/admin.js';
import { perClientShares } from '../../src/server/fairShare/perClientShares.js';
import { chat, type ChatCall } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// A client's share of the streams and connections follows the callers Jarvis has now, stored
// keys included (docs/security.md "Connections, feed followers and reattach readers"): a share
// fixed at start-up from the environment's keys alone let the first stored key take them all.

const servers: TestJarvis[] = [];
const calls: ChatCall[] = [];
afterEach(async () => {
  for (const c of calls.splice(0)) c.abort();
  for (const s of servers.splice(0)) await s.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function create(url: string, name: string, headers: Record<string, string> = {}): Promise<CreatedApiKeyJson> {
  const res = await fetch(`${url}/v1/admin/keys`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ name, role: name === 'ops' ? 'admin' : 'user' }) });
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedApiKeyJson;
}

describe('per-client shares with stored keys', () => {
  it('follow the callers counted now, unless the operator set them', () => {
    const limits = { maxConnections: 100, maxConnectionsPerClient: 100, maxStreams: 8, maxStreamsPerClient: 8, perClientSet: { connections: false, streams: false } };
    let callers = 1;
    const shares = perClientShares(limits, () => callers);
    expect([shares.connections(), shares.streams()]).toEqual([100, 8]);
    callers = 3;
    expect([shares.connections(), shares.streams()]).toEqual([50, 4]);
    const set = perClientShares({ ...limits, maxConnectionsPerClient: 7, maxStreamsPerClient: 3, perClientSet: { connections: true, streams: true } }, () => callers);
    expect([set.connections(), set.streams()]).toEqual([7, 3]);
  });

  it('a stored key gets half of JARVIS_MAX_STREAMS once another key exists, as an environment key would', { timeout: 60_000 }, async () => {
    const j = await startTestJarvis({ JARVIS_MAX_STREAMS: '4' });
    servers.push(j);
    // An open Jarvis on loopback: its first key is created without one (docs/team.md "3. Keys").
    const ops = await create(j.url, 'ops');
    const alice = await create(j.url, 'alice', bearer(ops.key));
    j.fake!.plan = () => ({ tokens: Array.from({ length: 2000 }, (_, i) => `t${i} `), tokenMs: 20 });
    for (const session of ['a1', 'a2']) {
      const c = chat(j.url, { session, headers: bearer(alice.key) });
      calls.push(c);
      await c.firstToken();
    }
    const third = await fetch(`${j.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(alice.key), 'content-type': 'application/json', 'x-session-id': 'a3' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'one more' }] }),
    });
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('too_many_streams_for_client');
    // The other key still finds its half.
    const other = chat(j.url, { session: 'o1', headers: bearer(ops.key) });
    calls.push(other);
    await other.firstToken();
  });
});
