import type { FinishReason } from '../../../shared/events.js';
import type { ChoiceDelta, TokenLogprob } from '../../../shared/logprobs.js';
import type { choiceEnd } from './format.js';

/** How a choice ends (format.ts choiceEnd): `finish_reason`, and `cancel_reason` for a cancelled reply. */
type ChoiceEnd = NonNullable<ReturnType<typeof choiceEnd>>;

// The replies after the first of an `n` > 1 request (docs/api.md "Logprobs and n"):
// the first is the stream's own tokens; these come as ChoiceDeltas beside it.

/** `choices[i].logprobs` of OpenAI's chunk and message: `{content: […]}`, or null when none were asked. */
export function logprobsJson(logprobs: TokenLogprob[] | undefined): string {
  return logprobs === undefined ? 'null' : `{"content":${JSON.stringify(logprobs)}}`;
}

/** One streamed piece of choice `delta.index` as an SSE chunk's `choices` value. */
export function choiceChunk(delta: ChoiceDelta): string {
  const parts: string[] = [];
  if (delta.reasoning !== undefined) parts.push(`"reasoning_content":${JSON.stringify(delta.reasoning)}`);
  if (delta.text !== undefined) parts.push(`"content":${JSON.stringify(delta.text)}`);
  const finish = delta.finish === undefined ? 'null' : JSON.stringify(delta.finish);
  return `"choices":[{"index":${delta.index},"delta":{${parts.join(',')}},"logprobs":${logprobsJson(delta.logprobs)},"finish_reason":${finish}}]`;
}

interface Collected {
  text: string[];
  reasoning: string[];
  logprobs: TokenLogprob[] | undefined;
  finish: FinishReason | undefined;
}

/** Gathers the further choices for the `chat.completion` answer (`stream: false`). */
export class ChoiceCollector {
  private readonly choices = new Map<number, Collected>();

  /** Adds a piece; returns the bytes it holds (text, reasoning, logprobs about), for the reply's size cap. */
  add(delta: ChoiceDelta): number {
    let c = this.choices.get(delta.index);
    if (!c) this.choices.set(delta.index, (c = { text: [], reasoning: [], logprobs: undefined, finish: undefined }));
    let bytes = 0;
    if (delta.text !== undefined) {
      c.text.push(delta.text);
      bytes += delta.text.length;
    }
    if (delta.reasoning !== undefined) {
      c.reasoning.push(delta.reasoning);
      bytes += delta.reasoning.length;
    }
    if (delta.logprobs !== undefined) {
      (c.logprobs ??= []).push(...delta.logprobs);
      bytes += logprobsBytes(delta.logprobs);
    }
    if (delta.finish !== undefined) c.finish = delta.finish;
    return bytes;
  }

  /**
   * The further choices the upstream sent, in index order, each complete: one that never finished takes
   * the stream's own end (a cancel, a cut). A server that ignores `n` sent none: the answer has one choice.
   */
  json(logprobsAsked: boolean, streamEnd: ChoiceEnd | undefined): Array<Record<string, unknown>> {
    return [...this.choices.keys()]
      .sort((a, b) => a - b)
      .map((index) => {
        const c = this.choices.get(index)!;
        const message: Record<string, unknown> = { role: 'assistant', content: c.text.join(''), refusal: null };
        if (c.reasoning.length > 0) message.reasoning_content = c.reasoning.join('');
        return { index, message, logprobs: logprobsAsked ? { content: c.logprobs ?? [] } : null, ...(c.finish !== undefined ? { finish_reason: c.finish } : (streamEnd ?? { finish_reason: null })) };
      });
  }
}

/** About what a token's logprobs take as JSON: counted against JARVIS_MAX_REPLY_BYTES like text. */
export function logprobsBytes(logprobs: TokenLogprob[]): number {
  let bytes = 0;
  for (const l of logprobs) bytes += 48 + l.token.length + (l.top_logprobs?.length ?? 0) * 48;
  return bytes;
}
