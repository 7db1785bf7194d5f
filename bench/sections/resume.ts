import http from 'node:http';
import { agent, postJson, type Target } from '../lib/client.js';
import { cpuMs } from '../lib/processes.js';
import { percentile } from '../lib/stats.js';
import { curlSeconds } from './throughput.js';

export interface StoreCostRow {
  tokens: number;
  runs: number;
  /** /v1/chat/completions (NDJSON): the answer is not stored. */
  chatTokensPerSecond: number;
  /** POST /v1/conversations/{id}/messages: the same stream, read from its event log and stored as it grows. */
  conversationTokensPerSecond: number;
  /** 1 - conversation / chat. */
  cost: number;
  /** Jarvis's CPU time (user + system) per 1,000 tokens, over all rounds. */
  chatCpuMsPer1k: number;
  conversationCpuMsPer1k: number;
  /** conversation / chat - 1. */
  cpuCost: number;
}

/**
 * What storing answers costs: one long unthrottled stream through the
 * conversations API against the same stream through /v1/chat/completions, on one
 * Jarvis, rounds interleaved (each conversation new, so the prompt stays the same).
 */
export async function storeCost(jarvisUrl: string, jarvisPid: number, chatTarget: Target, tokens: number, runs: number): Promise<StoreCostRow> {
  const prompt = `n=${tokens} burst`;
  // Both ask for every token (JARVIS_MAX_TOKENS_DEFAULT would otherwise cut them at 4096).
  const chat: Target = { ...chatTarget, body: (p) => ({ ...(chatTarget.body(p) as object), max_tokens: tokens }) };
  const conversation = async (): Promise<Target> => {
    const made = await postJson(`${jarvisUrl}/v1/conversations`, {});
    const id = (made as { id: string }).id;
    return { name: 'conversation', url: `${jarvisUrl}/v1/conversations/${id}/messages`, body: (p) => ({ content: p, max_tokens: tokens }), firstTokenMarker: '"type":"token"' };
  };
  // Warm-up of both paths.
  await curlSeconds(chat, `n=${Math.min(tokens, 5000)} burst`);
  await curlSeconds(await conversation(), `n=${Math.min(tokens, 5000)} burst`);
  const chatRates: number[] = [];
  const convRates: number[] = [];
  let chatCpu = 0;
  let convCpu = 0;
  for (let round = 0; round < runs; round++) {
    let before = cpuMs(jarvisPid);
    chatRates.push(tokens / (await curlSeconds(chat, prompt)));
    chatCpu += cpuMs(jarvisPid) - before;
    const target = await conversation();
    before = cpuMs(jarvisPid);
    convRates.push(tokens / (await curlSeconds(target, prompt)));
    // The answer's last write follows its terminal event by a moment.
    await new Promise((r) => setTimeout(r, 50));
    convCpu += cpuMs(jarvisPid) - before;
  }
  const chatTokensPerSecond = percentile(chatRates, 50);
  const conversationTokensPerSecond = percentile(convRates, 50);
  const per1k = (ms: number) => (ms / (tokens * runs)) * 1000;
  return {
    tokens,
    runs,
    chatTokensPerSecond,
    conversationTokensPerSecond,
    cost: 1 - conversationTokensPerSecond / chatTokensPerSecond,
    chatCpuMsPer1k: per1k(chatCpu),
    conversationCpuMsPer1k: per1k(convCpu),
    cpuCost: convCpu / chatCpu - 1,
  };
}

export interface ReattachRow {
  reattaches: number;
  /** GET /v1/streams/{id}/events?after=<last seq> sent → first resumed token line received. */
  p50Ms: number;
  p99Ms: number;
  /** Every resumed reader's first token was last seq + 1. */
  exact: boolean;
}

/** Opens a reader and resolves with the first token line's seq and when it came; the request is then dropped. */
function firstToken(url: string, init: { method: string; body?: string }): Promise<{ ms: number; seq: number; streamId: string; req: http.ClientRequest }> {
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    const req = http.request(url, { method: init.method, agent, headers: init.body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let buf = '';
      res.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        const m = /"type":"token","text":(?:"(?:[^"\\]|\\.)*"),"seq":(\d+)/.exec(buf);
        if (m) {
          res.removeAllListeners('data');
          res.resume();
          resolve({ ms: performance.now() - sent, seq: Number(m[1]), streamId: String(res.headers['x-stream-id']), req });
        } else if (buf.length > 1 << 20) buf = buf.slice(-4096);
      });
      res.on('error', () => {});
      res.on('end', () => reject(new Error(`${url}: ended without a token (HTTP ${res.statusCode}): ${buf.slice(0, 300)}`)));
    });
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
    req.end(init.body);
  });
}

/**
 * Reattach → first resumed token: a conversation answer streams at 200 tokens/s;
 * its reader drops, and reattaches after the last seq it got, over and over.
 */
export async function reattach(jarvisUrl: string, count: number): Promise<ReattachRow> {
  const made = await postJson(`${jarvisUrl}/v1/conversations`, {});
  const id = (made as { id: string }).id;
  const first = await firstToken(`${jarvisUrl}/v1/conversations/${id}/messages`, { method: 'POST', body: JSON.stringify({ content: 'n=1000000 ms=5' }) });
  first.req.destroy();
  let last = first.seq;
  const samples: number[] = [];
  let exact = true;
  try {
    for (let i = 0; i < count; i++) {
      // A short, varying gap: the tokens of the gap wait in the log.
      await new Promise((r) => setTimeout(r, i % 5));
      const again = await firstToken(`${jarvisUrl}/v1/streams/${first.streamId}/events?after=${last}`, { method: 'GET' });
      again.req.destroy();
      samples.push(again.ms);
      if (again.seq !== last + 1) exact = false;
      // The dropped reader had the token it measured (and possibly more, which it resumes after).
      last = again.seq;
    }
  } finally {
    await postJson(`${jarvisUrl}/v1/conversations/${id}/stop`);
  }
  return { reattaches: count, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), exact };
}
