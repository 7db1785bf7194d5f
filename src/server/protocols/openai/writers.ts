import type { ServerResponse } from 'node:http';
import type { StatusEvent, TerminalEvent, ToolCall } from '../../../shared/events.js';
import type { EventWriter } from '../../../streams/eventWriter.js';
import { errorOfEvent, retryHeaders } from '../../../shared/errors.js';
import type { StreamTiming } from '../../../streams/streamTiming.js';
import { ResponseWriter, streamHeaders } from '../responseWriter.js';
import { BufferedReply } from '../bufferedReply.js';
import { SERVER_TIMING, serverTimingValue, streamTimingHeaders } from '../../http/serverTiming.js';
import { openaiErrorBody, openaiSseError } from './errors.js';
import { choiceEnd, completionId, openaiToolCall, usageOf } from './format.js';
import { ChoiceCollector, choiceChunk, logprobsBytes, logprobsJson } from './choices.js';
import type { ChoiceDelta, TokenLogprob } from '../../../shared/logprobs.js';
import { writeStreamHead } from '../../http/streamHead.js';

export interface SseOptions {
  streamId: string;
  sessionId: string;
  model: string;
  includeUsage: boolean;
  timing?: StreamTiming;
}

/**
 * OpenAI-compatible Server-Sent Events (`stream: true`): `chat.completion.chunk`
 * objects, a final chunk with `finish_reason`, optionally a usage chunk, then
 * `data: [DONE]`.
 *
 * The status line (200) waits for the reply's first content: an error before it
 * (the upstream refusing the request, a missing model, a timeout) is answered with
 * its own HTTP status and error body, as the OpenAI API does, so SDKs raise the
 * right error and do not retry a 4xx. After it, an error is an error chunk.
 */
export class SseWriter extends ResponseWriter implements EventWriter {
  private readonly head: string;
  private readonly tokenHead: string;
  private readonly reasoningHead: string;
  private tokens = 0;
  private opened = false;
  /** `n` > 1 only: the further choices the upstream has sent, and whether each has its finish_reason. */
  private others: Map<number, boolean> | undefined;

  constructor(
    res: ServerResponse,
    private readonly options: SseOptions,
  ) {
    super(res, options.timing);
    const created = Math.floor(Date.now() / 1000);
    this.head = `{"id":${JSON.stringify(completionId(options.streamId))},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(options.model)}`;
    // Token chunks differ only in their content: encode the rest once.
    this.tokenHead = `data: ${this.head},"choices":[{"index":0,"delta":{"content":`;
    this.reasoningHead = `data: ${this.head},"choices":[{"index":0,"delta":{"reasoning_content":`;
  }

  private chunk(rest: string): string {
    return `data: ${this.head},${rest}}\n\n`;
  }

  /** Sends the status line and the role chunk, once, before the first content. */
  private open(): void {
    if (this.opened || this.gone) return;
    this.opened = true;
    const timing = this.options.timing;
    writeStreamHead(this.res, 200, {
      ...streamHeaders('text/event-stream; charset=utf-8', this.options.sessionId, this.options.streamId),
      ...(timing ? streamTimingHeaders(this.res, timing) : {}),
    });
    this.write(this.chunk('"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]'));
  }

  status(_event: StatusEvent): void {}

  token(text: string, _seq: number, logprobs?: TokenLogprob[]): boolean {
    if (!this.opened) this.open();
    this.tokens++;
    if (logprobs !== undefined) return this.write(`${this.tokenHead}${JSON.stringify(text)}},"logprobs":${logprobsJson(logprobs)},"finish_reason":null}]}\n\n`);
    return this.write(`${this.tokenHead}${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}]}\n\n`);
  }

  /**
   * A piece of choice `delta.index` ≥ 1, as OpenAI streams `n` > 1: the same chunk, another index,
   * its role chunk first. Only the choices the upstream sends appear (a server that ignores `n` sends one).
   */
  choice(delta: ChoiceDelta): boolean {
    if (!this.opened) this.open();
    const others = (this.others ??= new Map());
    if (!others.has(delta.index)) this.write(this.chunk(`"choices":[{"index":${delta.index},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]`));
    others.set(delta.index, others.get(delta.index) === true || delta.finish !== undefined);
    return this.write(this.chunk(choiceChunk(delta)));
  }

  reasoning(text: string, _seq: number): boolean {
    if (!this.opened) this.open();
    return this.write(`${this.reasoningHead}${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}]}\n\n`);
  }

  toolCall(call: ToolCall, index: number): boolean {
    if (!this.opened) this.open();
    return this.write(this.chunk(`"choices":[{"index":0,"delta":{"tool_calls":[${JSON.stringify(openaiToolCall(call, index))}]},"logprobs":null,"finish_reason":null}]`));
  }

  terminal(event: TerminalEvent): void {
    if (this.gone) return;
    const end = choiceEnd(event);
    if (event.type === 'error' && !this.opened) {
      const error = errorOfEvent(event);
      this.opened = true;
      const timing = this.options.timing;
      writeStreamHead(this.res, error.status, {
        ...streamHeaders('application/json; charset=utf-8', this.options.sessionId, this.options.streamId),
        'cache-control': 'no-store',
        ...retryHeaders(error.code),
        ...(timing ? { [SERVER_TIMING]: serverTimingValue(timing, { total: true }) } : {}),
      });
      this.finish(JSON.stringify(openaiErrorBody(error)));
      return;
    }
    this.open();
    let out = '';
    if (end !== undefined) {
      out += this.chunk(`"choices":[${JSON.stringify({ index: 0, delta: {}, logprobs: null, ...end })}]`);
      // The further choices still open end with the stream (a cancel, a cut at max_tokens): every choice gets its finish_reason.
      for (const [index, finished] of this.others ?? []) {
        if (!finished) out += this.chunk(`"choices":[${JSON.stringify({ index, delta: {}, logprobs: null, ...end })}]`);
      }
      if (this.options.includeUsage) out += this.chunk(`"choices":[],"usage":${JSON.stringify(usageOf(event, this.tokens))}`);
    } else if (event.type === 'error') {
      out += openaiSseError(errorOfEvent(event));
    }
    this.finish(`${out}data: [DONE]\n\n`);
  }
}

export interface CompletionOptions {
  streamId: string;
  sessionId: string;
  model: string;
  /** Past this many bytes of text the reply is full: the stream ends it with `finish_reason: length`. */
  maxReplyBytes?: number;
  /** The client asked for logprobs: each choice has `logprobs.content`, empty if the upstream sent none. */
  logprobs?: boolean;
  timing?: StreamTiming;
}

/**
 * OpenAI-compatible `chat.completion` JSON (`stream` false or absent): collects the
 * reply and answers once, at the end. The stream's session rules are the same; only
 * the encoding waits. A cancelled reply answers 200 with what it had,
 * `finish_reason: "stop"` and its `cancel_reason`; a Jarvis error answers with its HTTP status.
 */
export class CompletionWriter extends BufferedReply implements EventWriter {
  private readonly parts: string[] = [];
  private readonly reasoningParts: string[] = [];
  private readonly toolCalls: ToolCall[] = [];
  private logprobs: TokenLogprob[] | undefined;
  private others: ChoiceCollector | undefined;

  constructor(
    res: ServerResponse,
    private readonly options: CompletionOptions,
  ) {
    super(res, options);
  }

  status(_event: StatusEvent): void {}

  token(text: string, _seq: number, logprobs?: TokenLogprob[]): boolean {
    if (this.keep(text)) {
      this.parts.push(text);
      if (logprobs !== undefined) {
        (this.logprobs ??= []).push(...logprobs);
        this.count(logprobsBytes(logprobs));
      }
    }
    return true;
  }

  choice(delta: ChoiceDelta): boolean {
    if (this.full) return true;
    this.count((this.others ??= new ChoiceCollector()).add(delta));
    return true;
  }

  reasoning(text: string, _seq: number): boolean {
    if (this.keep(text)) this.reasoningParts.push(text);
    return true;
  }

  toolCall(call: ToolCall, _index: number): boolean {
    this.toolCalls.push(call);
    return true;
  }

  terminal(event: TerminalEvent): void {
    const res = this.res;
    if (this.gone) return;
    const headers = this.jsonHeaders();
    const end = choiceEnd(event);
    if (end === undefined && event.type === 'error') {
      const error = errorOfEvent(event);
      writeStreamHead(res, error.status, { ...headers, ...retryHeaders(error.code) });
      res.end(JSON.stringify(openaiErrorBody(error)));
      return;
    }
    const text = this.parts.join('');
    const message: Record<string, unknown> = {
      role: 'assistant',
      // OpenAI's own answer to a reply that is only tool calls: no content at all.
      content: text === '' && this.toolCalls.length > 0 ? null : text,
      refusal: null,
    };
    if (this.reasoningParts.length > 0) message.reasoning_content = this.reasoningParts.join('');
    if (this.toolCalls.length > 0) message.tool_calls = this.toolCalls.map((call) => openaiToolCall(call));
    writeStreamHead(res, 200, headers);
    res.end(
      JSON.stringify({
        id: completionId(this.options.streamId),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: this.options.model,
        choices: [
          { index: 0, message, logprobs: this.options.logprobs ? { content: this.logprobs ?? [] } : null, ...(end ?? { finish_reason: null }) },
          ...(this.others ? this.others.json(this.options.logprobs === true, end) : []),
        ],
        usage: usageOf(event, this.parts.length),
      }),
    );
  }
}
