import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeUpstream, type WireProtocol } from './fakeUpstream.js';

export { defaultPlan, FAKE_MODELS, type FakeFault, type FakePlan, type UpstreamRecord } from './fakeUpstream.js';

const line = (model: string, message: object) => JSON.stringify({ model, created_at: new Date().toISOString(), message: { role: 'assistant', content: '', ...message }, done: false }) + '\n';

/**
 * Ollama's native protocol: `/api/chat` streams NDJSON, `/api/tags` lists models.
 * As Ollama writes them: thinking in `message.thinking` (content ""), all tool
 * calls in one line's `message.tool_calls` with arguments as an object.
 */
const ollamaWire: WireProtocol = {
  contentType: 'application/x-ndjson',
  token: (model, content) =>
    JSON.stringify({ model, created_at: new Date().toISOString(), message: { role: 'assistant', content }, done: false }) + '\n',
  reasoning: (model, thinking) => line(model, { thinking }),
  toolCalls: (model, calls) => line(model, { tool_calls: calls.map((c, index) => ({ function: { index, name: c.name, arguments: c.arguments } })) }),
  done: (model, evalCount, plan) =>
    JSON.stringify({
      model,
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content: plan.doneContent ?? '' },
      done: true,
      done_reason: plan.finishReason ?? 'stop',
      total_duration: 1,
      load_duration: 1,
      prompt_eval_count: 7,
      prompt_eval_duration: 1,
      eval_count: evalCount,
      eval_duration: 1,
    }) + '\n',
  errorLine: () => JSON.stringify({ error: 'an error was encountered while running the model' }) + '\n',
  errorBody: (_status, message) => JSON.stringify({ error: message }),
};

/** A fake Ollama over real HTTP on loopback (see FakeUpstream for its controls). */
export class FakeOllama extends FakeUpstream {
  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/api/tags') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ models: this.models.map((name) => ({ name, model: name, modified_at: new Date(0).toISOString(), size: 1, digest: 'fake', details: { family: 'fake' } })) }));
      return;
    }
    if (req.method === 'GET' && req.url === '/api/version') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"version":"0.0.0-fake"}');
      return;
    }
    if (req.method !== 'POST' || req.url !== '/api/chat') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found');
      return;
    }
    const body = await this.readJson(req);
    this.stream(req, res, body, this.promptOf(body), ollamaWire);
  }
}
