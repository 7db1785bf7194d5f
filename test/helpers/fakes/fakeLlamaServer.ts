import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeOpenAI } from './fakeOpenAI.js';
import type { UpstreamRecord, WireProtocol } from './fakeUpstream.js';

/** llama-server's own stream (`/infill`, `/completion`): `content` per event, `stop: true` with the counts last, no `[DONE]`. */
const nativeWire: WireProtocol = {
  contentType: 'text/event-stream',
  token: (_model, content) => `data: ${JSON.stringify({ index: 0, content, tokens: [], stop: false, id_slot: -1 })}\n\n`,
  reasoning: () => '',
  toolCalls: () => '',
  done: (model, n, plan) =>
    `data: ${JSON.stringify({ index: 0, content: '', tokens: [], id_slot: 0, stop: true, model, tokens_predicted: n, tokens_evaluated: 7, stop_type: plan.finishReason === 'length' ? 'limit' : 'eos' })}\n\n`,
  errorLine: () => `error: ${JSON.stringify({ code: 500, message: 'an error was encountered while running the model', type: 'server_error' })}\n\n`,
  errorBody: (status, message) => JSON.stringify({ error: { code: status, message, type: 'server_error' } }),
};

/**
 * What a slot does once the client of its request has gone: `stops` as
 * llama.cpp's streaming path does (it checks the connection between tokens), or
 * `runaway` as its non-streaming path did (ggml-org/llama.cpp#24496: the closed
 * connection is never checked, so the slot generates until its limit).
 */
export type SlotBehaviour = 'stops' | 'runaway';

interface FakeSlot {
  id: number;
  idTask: number;
  processing: boolean;
  record: UpstreamRecord | undefined;
  /** When the client left a runaway slot (its tokens keep counting). */
  runawaySince: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

export interface FakeLlamaOptions {
  /** `--parallel`: how many slots. */
  slots?: number;
  /** `--no-slots`: GET /slots answers 501 as llama-server does. */
  noSlots?: boolean;
}

/**
 * A fake llama.cpp server (`llama-server`) for the engine-stop verdict: the
 * OpenAI-compatible SSE of FakeOpenAI, plus `/health` and `GET /slots` in the
 * server's own shapes (tools/server/README.md "GET /slots", "GET /health"): one
 * entry per slot with `id`, `id_task`, `n_ctx`, `speculative`, `is_processing`,
 * `params` and `next_token` { has_next_token, has_new_line, n_remain, n_decoded }.
 * A request takes the lowest idle slot and a new task id; the slot is idle again
 * when its reply is complete, or when the client leaves, unless `behaviour`
 * makes it a runaway: then it keeps processing for `runawayMs` (default: until
 * `releaseRunaways()`).
 */
export class FakeLlamaServer extends FakeOpenAI {
  behaviour: (prompt: string) => SlotBehaviour = () => 'stops';
  runawayMs = Number.POSITIVE_INFINITY;
  /** GET /slots requests answered (with slots or with the 501). */
  slotsReads = 0;
  private readonly slots: FakeSlot[];
  private nextTask = 0;
  noSlots: boolean;
  /** Plays a model without fill-in-the-middle tokens: `/infill` answers llama-server's 501. */
  noInfill = false;

  constructor(options: FakeLlamaOptions = {}) {
    super();
    this.slots = Array.from({ length: options.slots ?? 2 }, (_, id) => ({ id, idTask: -1, processing: false, record: undefined, runawaySince: undefined, timer: undefined }));
    this.noSlots = options.noSlots ?? false;
  }

  /** The slots now (what GET /slots would say), for assertions. */
  slotStates(): Array<{ id: number; id_task: number; is_processing: boolean }> {
    return this.slots.map((s) => ({ id: s.id, id_task: s.idTask, is_processing: s.processing }));
  }

  /** Every runaway slot stops now (the engine reached its limit). */
  releaseRunaways(): void {
    for (const slot of this.slots) if (slot.runawaySince !== undefined) this.idle(slot);
  }

  override async stop(): Promise<void> {
    for (const slot of this.slots) clearTimeout(slot.timer);
    await super.stop();
  }

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && (req.url === '/health' || req.url === '/v1/health')) return this.json(res, 200, { status: 'ok' });
    if (req.method === 'GET' && req.url?.split('?')[0] === '/slots') {
      this.slotsReads++;
      if (this.noSlots) {
        return this.json(res, 501, { error: { code: 501, message: 'This server does not support slots endpoint. Start it with `--slots`', type: 'not_supported_error' } });
      }
      return this.json(res, 200, this.slots.map((s) => this.slotJson(s)));
    }
    if (req.method === 'POST' && req.url === '/infill') {
      const body = await this.readJson(req);
      if (this.noInfill) return this.json(res, 501, { error: { code: 501, message: 'Infill is not supported by this model: prefix token is missing.', type: 'not_supported_error' } });
      // The model is the server's one: llama-server takes no `model` here.
      return this.stream(req, res, { ...body, model: this.models[0]! }, typeof body.input_prefix === 'string' ? body.input_prefix : '', nativeWire);
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return super.handle(req, res);
    // The task gets a slot as the server reads the request (a full server would defer it; tests size `slots`).
    const slot = this.slots.find((s) => !s.processing);
    if (slot) {
      clearTimeout(slot.timer);
      slot.idTask = this.nextTask++;
      slot.processing = true;
      slot.record = undefined;
      slot.runawaySince = undefined;
    }
    const before = this.requests.length;
    await super.handle(req, res);
    const record = this.requests[before];
    if (!slot) return;
    if (!record) return this.idle(slot); // answered without streaming (an HTTP error)
    slot.record = record;
    const task = slot.idTask;
    void record.closed.then(() => {
      if (slot.idTask !== task) return;
      if (record.completed || this.behaviour(record.prompt) === 'stops') return this.idle(slot);
      slot.runawaySince = performance.now();
      if (Number.isFinite(this.runawayMs)) slot.timer = setTimeout(() => this.idle(slot), this.runawayMs);
    });
  }

  private idle(slot: FakeSlot): void {
    clearTimeout(slot.timer);
    slot.processing = false;
    slot.runawaySince = undefined;
  }

  private slotJson(slot: FakeSlot): object {
    const sent = slot.record?.tokensSent ?? 0;
    // A runaway slot goes on decoding, about one token a millisecond.
    const decoded = sent + (slot.runawaySince !== undefined ? Math.round(performance.now() - slot.runawaySince) : 0);
    return {
      id: slot.id,
      id_task: slot.idTask,
      n_ctx: 4096,
      speculative: false,
      is_processing: slot.processing,
      params: { n_predict: -1, seed: 4294967295, temperature: 0.8, top_k: 40, top_p: 0.95, min_p: 0.05, max_tokens: -1, n_keep: 0, n_discard: 0, ignore_eos: false, stream: true, n_probs: 0, min_keep: 0, samplers: ['penalties', 'dry', 'top_k', 'typ_p', 'top_p', 'min_p', 'xtc', 'temperature'], timings_per_token: false, post_sampling_probs: false, lora: [] },
      next_token: { has_next_token: slot.processing, has_new_line: false, n_remain: -1, n_decoded: decoded },
    };
  }
}
