import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson } from '../../lib/client.js';
import { startJarvis } from '../../lib/setup.js';
import { spread, type Spread } from '../../lib/stats.js';
import { ndjsonChat, type NdjsonReply } from './ndjson.js';
import { linesOf } from './servers.js';

// What conversation affinity saves (docs/upstreams.md "Affinity"), on the embedded engine's
// prompt processing: two embedded servers in one JARVIS_UPSTREAMS, both serving the tiny
// GGUF, max_parallel=1 each. A conversation with a long history is answered once (it lands on
// e1, both being idle), then continued:
//   kept:  its server has room: the continuation goes back to it (affinity kept) and finds
//          the history in the sequence's KV cache;
//   moved: its server is busy (at max_parallel), so the continuation goes to the other one
//          (affinity moved), which evaluates the whole prompt.
// Both cases run with one other stream generating (a "blocker"): on the other server when
// kept, on the conversation's own when moved, so both measure under the same load. A blocker
// asks for a model only its server has (a copy of the GGUF under another name), so it lands
// where it must. Figures: the continuation's time to first token (client side), and the
// prompt tokens the engine evaluated and found cached (`engine_prompt`).

export interface AffinityCounts {
  rounds: number;
  /** Words of each earlier turn: 12 turns of 93 words are about 1,500 tokens of the test model's tokenizer (Llama-2's). */
  wordsPerTurn: number;
  turns: number;
}

export interface AffinityRow {
  affinity: 'kept' | 'moved';
  continuations: number;
  ttftMs: Spread;
  promptTokens: Spread;
  evaluated: Spread;
  cached: Spread;
  /** Continuations whose `upstream_routed` said this affinity (the set-up did what it meant to). */
  asMeant: number;
}

export interface AffinityResult {
  /** The first answer's prompt: the history's size, in tokens. */
  historyTokens: Spread;
  rows: AffinityRow[];
}

const MODEL = 'llama-2-tiny-random';
const WORDS =
  'the keeper of the lighthouse watched a storm come over the sea and wrote each night in his log about ships lamps fog rocks gulls waves tide harbour boats nets fish wind rain stars moon cliffs sand salt rope bell island morning evening old young captain crew letters bread coffee stairs lens oil glass shore signal'.split(
    ' ',
  );

type Message = { role: 'user' | 'assistant'; content: string };

/** A history of `turns` earlier messages, its words picked by a small generator seeded per conversation. */
function history(seed: number, turns: number, words: number): Message[] {
  let x = seed * 2654435761 + 1;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return WORDS[x % WORDS.length]!;
  };
  const messages: Message[] = Array.from({ length: turns }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: Array.from({ length: words }, next).join(' ') }));
  messages.push({ role: 'user', content: 'And what happened next?' });
  return messages;
}

export async function affinity(modelFile: string, n: AffinityCounts): Promise<AffinityResult> {
  // Two models folders, the same GGUF in each, plus one under a name only that server has.
  const root = mkdtempSync(join(tmpdir(), 'jarvis-bench-affinity-'));
  const dirs = ['e1', 'e2'].map((name) => {
    const dir = join(root, name);
    mkdirSync(dir);
    copyFileSync(modelFile, join(dir, `${MODEL}.gguf`));
    copyFileSync(modelFile, join(dir, `pin-${name}.gguf`));
    return dir;
  });
  const jarvis = await startJarvis({
    JARVIS_UPSTREAMS: `e1=embedded:${dirs[0]};max_parallel=1,e2=embedded:${dirs[1]};max_parallel=1`,
    JARVIS_EMBEDDED_THREADS: '1',
    JARVIS_EMBEDDED_GPU: 'off',
    JARVIS_EMBEDDED_CONTEXT: '4096',
  });
  const samples = { kept: [] as Sample[], moved: [] as Sample[] };
  const first: number[] = [];
  try {
    let seed = 1;
    // One unmeasured round loads the models (the GGUF on both servers, the blockers' on each).
    for (const kase of ['kept', 'moved'] as const) await continuation(jarvis, kase, seed++, n);
    for (let round = 0; round < n.rounds; round++) {
      // The order alternates round by round: neither case always follows the other.
      const order = round % 2 === 0 ? (['kept', 'moved'] as const) : (['moved', 'kept'] as const);
      for (const kase of order) {
        const s = await continuation(jarvis, kase, seed++, n);
        samples[kase].push(s);
        first.push(s.historyTokens);
      }
    }
  } finally {
    await jarvis.stop();
  }
  const row = (kase: 'kept' | 'moved'): AffinityRow => ({
    affinity: kase,
    continuations: samples[kase].length,
    ttftMs: spread(samples[kase].map((s) => s.ttftMs)),
    promptTokens: spread(samples[kase].map((s) => s.promptTokens)),
    evaluated: spread(samples[kase].map((s) => s.evaluated)),
    cached: spread(samples[kase].map((s) => s.cached)),
    asMeant: samples[kase].filter((s) => s.routed === kase).length,
  });
  return { historyTokens: spread(first), rows: [row('kept'), row('moved')] };
}

interface Sample {
  historyTokens: number;
  ttftMs: number;
  promptTokens: number;
  evaluated: number;
  cached: number;
  routed: string | undefined;
}

async function continuation(jarvis: Awaited<ReturnType<typeof startJarvis>>, kase: 'kept' | 'moved', seed: number, n: AffinityCounts): Promise<Sample> {
  const session = `aff-${kase}-${seed}-${Math.random().toString(36).slice(2, 6)}`;
  const messages = history(seed, n.turns, n.wordsPerTurn);
  const sampling = { max_tokens: 16, temperature: 0.8, seed };
  const one = await ndjsonChat(jarvis.url, { model: MODEL, messages, ...sampling }, { session });
  expectDone(one, 'the first answer');
  const holder = one.upstream!;
  const other = holder === 'e1' ? 'e2' : 'e1';
  const blocked = kase === 'kept' ? other : holder;

  const blockerSession = `${session}-blocker`;
  let started!: () => void;
  const blockerStarted = new Promise<void>((resolve) => (started = resolve));
  const blocker = ndjsonChat(jarvis.url, { model: `pin-${blocked}`, messages: [{ role: 'user', content: 'Tell me a long story' }], max_tokens: 4000, seed }, { session: blockerSession, onFirstToken: () => started() });
  await Promise.race([blockerStarted, blocker.then((r) => Promise.reject(new Error(`affinity: the blocker ended before its first token: ${JSON.stringify(r.terminal)}`)))]);

  const next = await ndjsonChat(jarvis.url, { model: MODEL, messages: [...messages, { role: 'assistant', content: one.text }, { role: 'user', content: 'Go on.' }], ...sampling, max_tokens: 8 }, { session });
  await postJson(`${jarvis.url}/v1/sessions/${blockerSession}/stop`);
  const stopped = await blocker;
  expectDone(next, 'the continuation');
  if (stopped.terminal?.type === 'done') throw new Error('affinity: the blocker ended before the continuation was measured; give it more tokens');

  const traces = [one.streamId!, next.streamId!];
  const [prompts, routed] = await Promise.all([linesOf(jarvis.logFile, 'engine_prompt', traces), linesOf(jarvis.logFile, 'upstream_routed', [next.streamId!])]);
  const p = prompts.get(next.streamId!)?.fields;
  if (!p) throw new Error('affinity: no engine_prompt line for the continuation');
  return {
    historyTokens: Number(prompts.get(one.streamId!)?.fields.prompt_tokens),
    ttftMs: next.firstTokenAt! - next.sentAt,
    promptTokens: Number(p.prompt_tokens),
    evaluated: Number(p.evaluated),
    cached: Number(p.cached),
    routed: routed.get(next.streamId!)?.fields.affinity,
  };
}

function expectDone(reply: NdjsonReply, what: string): void {
  if (reply.status !== 200 || reply.terminal?.type !== 'done' || reply.firstTokenAt === undefined) {
    throw new Error(`affinity: ${what} failed: HTTP ${reply.status}, ${JSON.stringify(reply.terminal ?? reply.events.at(-1))}`);
  }
}
