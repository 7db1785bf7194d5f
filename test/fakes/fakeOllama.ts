import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeUpstream, type WireProtocol } from './fakeUpstream.js';

export { defaultPlan, FAKE_MODELS, type FakeFault, type FakePlan, type UpstreamRecord } from './fakeUpstream.js';

/** Ollama's native protocol: `/api/chat` streams NDJSON, `/api/tags` lists models. */
const ollamaWire: WireProtocol = {
  contentType: 'application/x-ndjson',
  token: (model, content) =>
    JSON.stringify({ model, created_at: new Date().toISOString(), message: { role: 'assistant', content }, done: false }) + '\n',
  done: (model, evalCount) =>
    JSON.stringify({
      model,
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'stop',
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
