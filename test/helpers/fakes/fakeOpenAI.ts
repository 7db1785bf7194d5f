import type { IncomingMessage, ServerResponse } from 'node:http';
import { fakeEmbedding, FakeUpstream, type FakePlan, type WireProtocol } from './fakeUpstream.js';
import { fakeChoiceText, fakeLogprob } from './fakeLogprobs.js';

const MODEL_ERROR = 'an error was encountered while running the model';

/**
 * OpenAI's chat-completions protocol as llama.cpp, vLLM and others serve it: SSE
 * chunks, then `[DONE]`. Tool calls come in fragments (id and name first, then the
 * arguments in pieces), errors in each server's own shape (`errorForm`).
 */
function sseWire(id: string, body: Record<string, unknown> = {}): WireProtocol {
  const data = (value: object) => `data: ${JSON.stringify(value)}\n\n`;
  // vLLM's `n` and `logprobs`: each choice's chunks by `index`, each token's logprobs beside its content.
  const n = typeof body.n === 'number' ? body.n : 1;
  const top = body.logprobs === true ? Number(body.top_logprobs ?? 0) : -1;
  const scored = (content: string) => (top < 0 ? null : { content: [fakeLogprob(content, top)] });
  const chunk = (model: string, delta: object, finish: string | null, usage?: object, index = 0, logprobs: object | null = null) =>
    data({ id, object: 'chat.completion.chunk', created: 1, model, choices: [{ index, delta, logprobs, finish_reason: finish }], ...(usage ? { usage } : {}) });
  const usageOf = (k: number) => ({ prompt_tokens: 7, completion_tokens: k * n, total_tokens: 7 + k * n });
  const others = (fn: (index: number) => string) => Array.from({ length: n - 1 }, (_, i) => fn(i + 1)).join('');
  const errorLine = (plan: FakePlan): string => {
    switch (plan.errorForm ?? 'openai') {
      case 'openai':
        return data({ error: { message: plan.errorMessage ?? MODEL_ERROR, type: 'server_error', param: null, code: plan.httpStatus ?? 500 } });
      case 'bare':
        return data({ error: plan.errorMessage ?? MODEL_ERROR });
      case 'vllm_object':
        return data({ object: 'error', message: plan.errorMessage ?? MODEL_ERROR, type: 'BadRequestError', param: null, code: plan.httpStatus ?? 400 });
      case 'llamacpp_line':
        return `error: ${JSON.stringify({ code: plan.httpStatus ?? 500, message: plan.errorMessage ?? MODEL_ERROR, type: 'server_error' })}\n\n`;
    }
  };
  return {
    contentType: 'text/event-stream',
    token: (model, content) =>
      chunk(model, { content }, null, undefined, 0, scored(content)) +
      others((index) => chunk(model, { content: fakeChoiceText(content, index) }, null, undefined, index, scored(fakeChoiceText(content, index)))),
    reasoning: (model, text, plan) => chunk(model, { [plan.reasoningField ?? 'reasoning_content']: text }, null),
    toolCalls: (model, calls) =>
      calls
        .map((c, index) => {
          const args = JSON.stringify(c.arguments);
          const cut = Math.floor(args.length / 2);
          return (
            chunk(model, { tool_calls: [{ index, id: `call_fake_${index}`, type: 'function', function: { name: c.name, arguments: '' } }] }, null) +
            chunk(model, { tool_calls: [{ index, function: { arguments: args.slice(0, cut) } }] }, null) +
            chunk(model, { tool_calls: [{ index, function: { arguments: args.slice(cut) } }] }, null)
          );
        })
        .join(''),
    done: (model, tokens, plan) => {
      const finish = plan.finishReason ?? (plan.toolCalls?.length ? 'tool_calls' : 'stop');
      const form = plan.usageForm ?? 'separate';
      const rest = others((index) => chunk(model, {}, finish, undefined, index));
      if (form === 'in_finish') return rest + chunk(model, {}, finish, usageOf(tokens)) + 'data: [DONE]\n\n';
      const last = form === 'separate' ? data({ id, object: 'chat.completion.chunk', created: 1, model, choices: [], usage: usageOf(tokens) }) : '';
      return rest + chunk(model, {}, finish) + last + 'data: [DONE]\n\n';
    },
    errorLine,
    errorBody: (status, message) =>
      JSON.stringify({ error: { message, type: status === 404 ? 'NotFoundError' : 'server_error', param: null, code: status } }),
  };
}

/** `/v1/completions` as vLLM and llama.cpp stream it: `text_completion` chunks with `choices[].text`. */
function textWire(id: string, body: Record<string, unknown> = {}): WireProtocol {
  const chat = sseWire(id);
  const data = (value: object) => `data: ${JSON.stringify(value)}\n\n`;
  // The legacy `logprobs: k`: {tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}.
  const legacy = (text: string) => {
    if (typeof body.logprobs !== 'number' || text === '') return null;
    const lp = fakeLogprob(text, body.logprobs);
    return { tokens: [lp.token], token_logprobs: [lp.logprob], top_logprobs: [Object.fromEntries(lp.top_logprobs.map((t) => [t.token, t.logprob]))], text_offset: [0] };
  };
  const chunk = (model: string, text: string, finish: string | null) =>
    data({ id, object: 'text_completion', created: 1, model, choices: [{ index: 0, text, logprobs: legacy(text), finish_reason: finish }] });
  return {
    ...chat,
    token: (model, text) => chunk(model, text, null),
    reasoning: () => '',
    toolCalls: () => '',
    done: (model, n, plan) =>
      chunk(model, '', plan.finishReason ?? 'stop') +
      data({ id, object: 'text_completion', created: 1, model, choices: [], usage: { prompt_tokens: 7, completion_tokens: n, total_tokens: 7 + n } }) +
      'data: [DONE]\n\n',
  };
}

/**
 * A fake OpenAI-compatible server (`/v1/chat/completions` with `stream: true`,
 * `/v1/models`) over real HTTP on loopback, with FakeUpstream's controls. It also
 * records the Authorization header each chat request carried.
 */
export class FakeOpenAI extends FakeUpstream {
  readonly authorizations: Array<string | undefined> = [];
  /** False plays a server that ignores `n` (answers one choice), as some OpenAI-compatible servers do. */
  servesN = true;
  /** False plays a server without text completions: `/v1/completions` answers 404. */
  completions = true;

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: this.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })) }));
      return;
    }
    if (req.method === 'POST' && req.url === '/v1/embeddings') {
      const body = await this.readJson(req);
      this.embedRequests.push(body);
      if (!this.models.includes(body.model)) {
        return this.json(res, 404, { error: { message: `The model \`${body.model}\` does not exist.`, type: 'invalid_request_error', param: null, code: 'model_not_found' } });
      }
      const input = typeof body.input === 'string' ? [body.input] : (body.input as string[]);
      if (input.length === 0) return this.json(res, 400, { error: { message: "'$.input' is invalid.", type: 'invalid_request_error', param: null, code: null } });
      const base64 = body.encoding_format === 'base64';
      const encode = (v: number[]) => {
        const buf = Buffer.alloc(v.length * 4);
        v.forEach((x, i) => buf.writeFloatLE(x, i * 4));
        return buf.toString('base64');
      };
      const tokens = input.reduce((n, text) => n + text.split(/\s+/).length, 0);
      return this.json(res, 200, {
        object: 'list',
        // Out of order on purpose: clients must place each by its index.
        data: input.map((text, index) => ({ object: 'embedding', index, embedding: base64 ? encode(fakeEmbedding(text)) : fakeEmbedding(text) })).reverse(),
        model: body.model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    }
    if (req.method === 'POST' && req.url === '/v1/completions' && this.completions) {
      const body = await this.readJson(req);
      return this.stream(req, res, body, typeof body.prompt === 'string' ? body.prompt : '', textWire(`cmpl-fake-${this.requests.length}`, body));
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.url}`, type: 'invalid_request_error', param: null, code: 404 } }));
      return;
    }
    this.authorizations.push(req.headers.authorization);
    const body = await this.readJson(req);
    this.stream(req, res, body, this.promptOf(body), sseWire(`chatcmpl-fake-${this.requests.length}`, this.servesN ? body : { ...body, n: undefined }));
  }
}
