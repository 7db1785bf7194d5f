import http from 'node:http';
import { agent } from './client.js';
import type { Sampling } from './directEngine.js';

// One answer through Jarvis in one of the three wire formats it serves, read whole:
// time to the first token (a per-format marker in the bytes, as bench/lib/client.ts
// does), time to the last byte, the answer's text and its token count as the server
// reports it (usage / eval_count). The text is parsed after the end, off the clock.

export type Format = 'ndjson' | 'sse' | 'ollama';

export interface EnginePath {
  name: string;
  format: Format;
  url: string;
  body(prompt: string, sampling: Sampling): unknown;
  firstTokenMarker: string;
  headers?: Record<string, string>;
}

export function enginePaths(jarvisUrl: string, model: string): EnginePath[] {
  const messages = (prompt: string) => [{ role: 'user', content: prompt }];
  const openai = (prompt: string, s: Sampling) => ({ model, messages: messages(prompt), max_tokens: s.maxTokens, temperature: s.temperature, seed: s.seed });
  return [
    { name: 'Jarvis NDJSON', format: 'ndjson', url: `${jarvisUrl}/v1/chat/completions`, body: openai, firstTokenMarker: '"type":"token"', headers: { accept: 'application/x-ndjson' } },
    {
      name: 'Jarvis OpenAI SSE',
      format: 'sse',
      url: `${jarvisUrl}/v1/chat/completions`,
      body: (p, s) => ({ ...openai(p, s), stream: true, stream_options: { include_usage: true } }),
      firstTokenMarker: '"delta":{"content":',
    },
    {
      name: 'Jarvis Ollama API',
      format: 'ollama',
      url: `${jarvisUrl}/api/chat`,
      body: (p, s) => ({ model, messages: messages(p), stream: true, options: { num_predict: s.maxTokens, temperature: s.temperature, seed: s.seed } }),
      firstTokenMarker: '"done":false',
    },
  ];
}

export interface EngineReply {
  status: number;
  ttftMs: number;
  totalMs: number;
  text: string;
  /** As the server counted them (NaN when it did not say). */
  tokens: number;
  /** Jarvis's own share of the time to the first byte (`Server-Timing` `jarvis`), if sent. */
  ownMs: number | undefined;
  streamId: string | undefined;
}

export interface ReplyOptions {
  session?: string;
  onFirstToken?: () => void;
}

export function engineReply(path: EnginePath, prompt: string, sampling: Sampling, options: ReplyOptions = {}): Promise<EngineReply> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(path.body(prompt, sampling));
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...path.headers };
    if (options.session) headers['x-session-id'] = options.session;
    const sentAt = performance.now();
    let firstAt = 0;
    const chunks: Buffer[] = [];
    let head = '';
    const req = http.request(path.url, { method: 'POST', headers, agent }, (res) => {
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (firstAt !== 0) return;
        head = (head + chunk.toString('latin1')).slice(-4096);
        if (head.includes(path.firstTokenMarker)) {
          firstAt = performance.now();
          options.onFirstToken?.();
        }
      });
      res.on('end', () => {
        const totalMs = performance.now() - sentAt;
        const body = Buffer.concat(chunks).toString('utf8');
        const { text, tokens } = parse(path.format, body);
        const timing = `${String(res.trailers['server-timing'] ?? '')},${String(res.headers['server-timing'] ?? '')}`;
        const own = /(?:^|,)\s*jarvis;dur=([0-9.]+)/.exec(timing);
        resolve({ status: res.statusCode ?? 0, ttftMs: firstAt ? firstAt - sentAt : NaN, totalMs, text, tokens, ownMs: own ? Number(own[1]) : undefined, streamId: res.headers['x-stream-id'] as string | undefined });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The answer's text and token count from a whole response body. */
function parse(format: Format, body: string): { text: string; tokens: number } {
  let text = '';
  let tokens = NaN;
  const lines = body.split('\n').filter((l) => l.trim() !== '');
  for (const raw of lines) {
    const line = format === 'sse' ? raw.replace(/^data: /, '') : raw;
    if (line === '[DONE]' || line.startsWith(':') || line.startsWith('event:')) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (format === 'ndjson') {
      if (o.type === 'token') text += String(o.text ?? o.content ?? '');
      const usage = o.usage as { completion_tokens?: number } | undefined;
      if (o.type === 'done' && usage?.completion_tokens !== undefined) tokens = usage.completion_tokens;
    } else if (format === 'sse') {
      const delta = (o.choices as Array<{ delta?: { content?: string } }> | undefined)?.[0]?.delta;
      if (typeof delta?.content === 'string') text += delta.content;
      const usage = o.usage as { completion_tokens?: number } | null | undefined;
      if (usage?.completion_tokens !== undefined) tokens = usage.completion_tokens;
    } else {
      const message = o.message as { content?: string } | undefined;
      if (typeof message?.content === 'string') text += message.content;
      if (o.done === true && typeof o.eval_count === 'number') tokens = o.eval_count;
    }
  }
  return { text, tokens };
}
