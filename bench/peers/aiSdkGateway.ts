import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText, type ModelMessage } from 'ai';

// The reference gateway: the kind of chat proxy people write with the Vercel AI SDK,
// `streamText` with an OpenAI-compatible provider, piping the text stream to the
// client. It has no sessions and no supersede; it is here to be measured next to.

const upstream = process.env.UPSTREAM_BASE_URL ?? 'http://127.0.0.1:8080/v1';
const provider = createOpenAICompatible({ name: 'upstream', baseURL: upstream });

const server = http.createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/chat') return void res.writeHead(404).end();
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string; messages: ModelMessage[] };
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  const result = streamText({ model: provider(body.model), messages: body.messages, abortSignal: controller.signal });
  result.pipeTextStreamToResponse(res);
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
});
