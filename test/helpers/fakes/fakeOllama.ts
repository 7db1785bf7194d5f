import type { IncomingMessage, ServerResponse } from 'node:http';
import { fakeEmbedding, FakeUpstream, type WireProtocol } from './fakeUpstream.js';
import { fakeLogprob } from './fakeLogprobs.js';

export { defaultPlan, FAKE_MODELS, fakeEmbedding, type FakeFault, type FakePlan, type UpstreamRecord } from './fakeUpstream.js';

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

/** Ollama's logprobs (`logprobs: true`, `top_logprobs`): each token line carries `logprobs: [{token, logprob, bytes, top_logprobs}]`. */
function withLogprobs(wire: WireProtocol, top: number): WireProtocol {
  return { ...wire, token: (model, content) => wire.token(model, content).replace(/\}\n$/, `,"logprobs":${JSON.stringify([fakeLogprob(content, top)])}}\n`) };
}

/** `/api/generate`'s lines: the text in `response`, thinking in `thinking`, as Ollama writes them. */
const generateLine = (model: string, fields: object, done = false) => JSON.stringify({ model, created_at: new Date().toISOString(), response: '', ...fields, done }) + '\n';
const generateWire: WireProtocol = {
  ...ollamaWire,
  token: (model, response) => JSON.stringify({ model, created_at: new Date().toISOString(), response, done: false }) + '\n',
  reasoning: (model, thinking) => generateLine(model, { thinking }),
  toolCalls: () => '',
  done: (model, evalCount, plan) =>
    generateLine(model, { response: plan.doneContent ?? '', done_reason: plan.finishReason ?? 'stop', total_duration: 1, load_duration: 1, prompt_eval_count: 7, prompt_eval_duration: 1, eval_count: evalCount, eval_duration: 1 }, true),
};

/** A fake Ollama over real HTTP on loopback (see FakeUpstream for its controls). */
export class FakeOllama extends FakeUpstream {
  /** What `/api/version` says. */
  version = '0.11.4';
  /** The models whose template takes a `suffix` (Ollama refuses fill-in-the-middle for the others). */
  insertModels = new Set(['fake-qwen:latest']);
  /** The models whose /api/show lists `vision` (they take images); `listsCapabilities` false: /api/show lists none (an Ollama before 0.6.4). */
  visionModels = new Set<string>();
  listsCapabilities = true;

  private details(name: string) {
    const family = name.startsWith('fake-qwen') ? 'qwen2' : 'llama';
    return { parent_model: '', format: 'gguf', family, families: [family], parameter_size: '3.2B', quantization_level: 'Q4_K_M' };
  }

  private notFound(res: ServerResponse, model: unknown): void {
    this.json(res, 404, { error: `model '${String(model)}' not found` });
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = `${req.method} ${req.url}`;
    switch (route) {
      case 'GET /api/tags':
        return this.json(res, 200, {
          models: this.models.map((name, i) => ({ name, model: name, modified_at: '2025-01-0' + (i + 1) + 'T10:00:00.000000001Z', size: 2_019_393_189 + i, digest: `sha256-fake-${i}`, details: this.details(name) })),
        });
      case 'GET /api/version':
        return this.json(res, 200, { version: this.version });
      case 'GET /api/ps':
        // The first model is the loaded one.
        return this.json(res, 200, {
          models: this.models.slice(0, 1).map((name) => ({ name, model: name, size: 3_000_000_000, digest: 'sha256-fake-0', details: this.details(name), expires_at: '2030-01-01T00:00:00Z', size_vram: 2_500_000_000, context_length: 4096 })),
        });
      case 'POST /api/show': {
        const body = await this.readJson(req);
        const name = (body.model ?? body.name) as string;
        if (!this.models.includes(name)) return this.notFound(res, name);
        return this.json(res, 200, {
          license: 'FAKE LICENSE',
          modelfile: `FROM ${name}\n`,
          parameters: 'stop "<|eot_id|>"',
          // A template that places `.Suffix` is how Ollama, and clients such as Continue, know a model fills in the middle.
          template: this.insertModels.has(name) ? '{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>{{- else }}{{ .Prompt }}{{- end }}' : '{{ .Prompt }}',
          details: this.details(name),
          model_info: { 'general.architecture': 'llama', 'llama.context_length': 131072 },
          ...(this.listsCapabilities ? { capabilities: this.visionModels.has(name) ? ['completion', 'vision'] : ['completion', 'tools'] } : {}),
          modified_at: '2025-01-01T10:00:00Z',
        });
      }
      case 'POST /api/embed': {
        const body = await this.readJson(req);
        this.embedRequests.push(body);
        if (!this.models.includes(body.model)) return this.notFound(res, body.model);
        const input = typeof body.input === 'string' ? [body.input] : ((body.input as string[] | undefined) ?? []);
        return this.json(res, 200, {
          model: body.model,
          embeddings: input.map(fakeEmbedding),
          total_duration: 14_143_917,
          load_duration: 1_019_500,
          prompt_eval_count: input.reduce((n, text) => n + text.split(/\s+/).length, 0),
        });
      }
      case 'POST /api/chat': {
        const body = await this.readJson(req);
        return this.stream(req, res, body, this.promptOf(body), body.logprobs === true ? withLogprobs(ollamaWire, Number(body.top_logprobs ?? 0)) : ollamaWire);
      }
      case 'POST /api/generate': {
        const body = await this.readJson(req);
        // Ollama's check, before anything runs: a suffix needs a template that places it.
        if (typeof body.suffix === 'string' && body.suffix !== '' && this.models.includes(body.model) && !this.insertModels.has(body.model)) {
          return this.json(res, 400, { error: `${JSON.stringify(body.model)} does not support insert` });
        }
        return this.stream(req, res, body, typeof body.prompt === 'string' ? body.prompt : '', body.logprobs === true ? withLogprobs(generateWire, Number(body.top_logprobs ?? 0)) : generateWire);
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 page not found');
    }
  }
}
