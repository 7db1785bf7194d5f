import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeOllama } from '../test/helpers/fakes/fakeOllama.js';
import { FakeOpenAI } from '../test/helpers/fakes/fakeOpenAI.js';
import type { FakeFault, FakePlan, FakeUpstream, UpstreamRecord } from '../test/helpers/fakes/fakeUpstream.js';

// The benchmark's model servers, in a process of their own: the fake Ollama and
// the fake OpenAI-compatible server of the tests, told what to do by the prompt
// ("n=2000 ms=0 burst ignore first=0 id=…"), plus a control port that reports
// when each upstream request arrived and closed (epoch ms, comparable across processes).

/**
 * A reply's tokens, one array per length shared by every request asking for it (nothing writes
 * to a plan's tokens): the capacity section's thousands of long paced streams would otherwise
 * each hold an array of their own.
 */
const tokenLists = new Map<number, string[]>();
const tokensOf = (n: number): string[] => {
  let list = tokenLists.get(n);
  if (!list) tokenLists.set(n, (list = Array.from({ length: n }, (_, i) => `t${i} `)));
  return list;
};

export function benchPlan(prompt: string): FakePlan {
  const arg = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S+)`).exec(prompt)?.[1];
  const n = Number(arg('n') ?? 20);
  const tokens = tokensOf(n);
  return {
    tokens,
    tokenMs: Number(arg('ms') ?? 0),
    firstTokenMs: Number(arg('first') ?? 0),
    burst: /(^|\s)burst(\s|$)/.test(prompt),
    ignoreAbort: /(^|\s)ignore(\s|$)/.test(prompt),
    // fault=fail_mid|garbage|error_line|http_500|hang_after_headers|hang_before_headers, after=N tokens (the soak)
    fault: (arg('fault') ?? 'none') as FakeFault,
    faultAfter: Number(arg('after') ?? 0),
  };
}

const epoch = (t: number | undefined) => (t === undefined ? undefined : performance.timeOrigin + t);

function describe(r: UpstreamRecord) {
  return {
    prompt: r.prompt,
    receivedAt: epoch(r.receivedAt),
    clientGoneAt: epoch(r.clientGoneAt),
    closedAt: epoch(r.closedAt),
    completed: r.completed,
    tokensSent: r.tokensSent,
  };
}

async function main(): Promise<void> {
  const fakes: Record<string, FakeUpstream> = { ollama: new FakeOllama(), openai: new FakeOpenAI() };
  // BENCH_OLLAMA_PORT: a server killed and started again where it was (the routing section's failover).
  const ports: Record<string, number | undefined> = { ollama: Number(process.env.BENCH_OLLAMA_PORT) || undefined };
  for (const [kind, fake] of Object.entries(fakes)) {
    fake.plan = benchPlan;
    await fake.start(ports[kind]);
  }
  const control = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const match = url.searchParams.get('prompt');
    const records = Object.values(fakes).flatMap((f) => f.requests);
    if (url.pathname === '/records') {
      const found = match === null ? records : records.filter((r) => r.prompt === match);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(found.map(describe)));
    } else if (url.pathname === '/reset') {
      for (const f of Object.values(fakes)) f.requests.length = 0;
      res.end('{}');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const port = (control.address() as AddressInfo).port;
  console.log(JSON.stringify({ ollama: fakes.ollama!.url, openai: `${fakes.openai!.url}/v1`, control: `http://127.0.0.1:${port}` }));
}

void main();
