import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeUpstream, type WireProtocol } from './fakeUpstream.js';

/** OpenAI's chat-completions protocol as llama.cpp, vLLM and others serve it: SSE chunks, then `[DONE]`. */
function sseWire(id: string): WireProtocol {
  const chunk = (model: string, delta: object, finish: string | null, usage?: object) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model, choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;
  return {
    contentType: 'text/event-stream',
    token: (model, content) => chunk(model, { content }, null),
    done: (model, n) =>
      chunk(model, {}, 'stop') + chunk(model, {}, null, { prompt_tokens: 7, completion_tokens: n, total_tokens: 7 + n }) + 'data: [DONE]\n\n',
    errorLine: () => `data: ${JSON.stringify({ error: { message: 'an error was encountered while running the model', type: 'server_error', code: 500 } })}\n\n`,
    errorBody: (status, message) =>
      JSON.stringify({ error: { message, type: status === 404 ? 'NotFoundError' : 'server_error', param: null, code: status } }),
  };
}

/**
 * A fake OpenAI-compatible server (`/v1/chat/completions` with `stream: true`,
 * `/v1/models`) over real HTTP on loopback, with FakeUpstream's controls. It also
 * records the Authorization header each chat request carried.
 */
export class FakeOpenAI extends FakeUpstream {
  readonly authorizations: Array<string | undefined> = [];

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: this.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })) }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.url}`, type: 'invalid_request_error', param: null, code: 404 } }));
      return;
    }
    this.authorizations.push(req.headers.authorization);
    const body = await this.readJson(req);
    this.stream(req, res, body, this.promptOf(body), sseWire(`chatcmpl-fake-${this.requests.length}`));
  }
}
