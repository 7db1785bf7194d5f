import { describe, expect, it } from 'vitest';
import type { JarvisEvent } from '../../../src/shared/events.js';
import { encodeResponseEvents, ResponsesEncoder } from '../../../src/server/protocols/responses/encoder.js';
import { echoOf } from '../../../src/server/protocols/responses/request.js';
import { parseItemId, type ResponseMeta } from '../../../src/server/protocols/responses/types.js';

// The encoder is a pure function of (meta, events): a stored stream replayed through it
// must give the bytes, sequence numbers and item ids the live request got (docs/responses.md).

const meta: ResponseMeta = { id: 'resp_abc123', created_at: 1_765_000_000, model: 'm', echo: echoOf({ instructions: 'Be brief.', metadata: { k: 'v' } }) };
const base = { stream_id: 'abc123', session_id: 's' };

const events: JarvisEvent[] = [
  { ...base, type: 'status', status: 'thinking', trace_id: 't', model: 'm' },
  { ...base, type: 'status', status: 'loading_model', trace_id: 't', model: 'm' },
  { ...base, type: 'reasoning', text: 'Hmm, ', seq: 0 },
  { ...base, type: 'reasoning', text: 'yes.', seq: 1 },
  { ...base, type: 'token', text: 'Hello ', seq: 0 },
  { ...base, type: 'token', text: '"world"\n', seq: 1 },
  { ...base, type: 'tool_call', id: 'call_1', name: 'f', arguments: '{"a":1}', index: 0 },
  { ...base, type: 'done', reason: 'tool_calls', usage: { prompt_tokens: 7, completion_tokens: 3 }, timings: { duration_ms: 5 } },
];

interface Frame {
  type: string;
  sequence_number: number;
  [key: string]: unknown;
}

function frames(sse: string): Frame[] {
  return sse
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n');
      const frame = JSON.parse(dataLine!.slice('data: '.length)) as Frame;
      expect(eventLine).toBe(`event: ${frame.type}`);
      return frame;
    });
}

describe('ResponsesEncoder', () => {
  it('is deterministic: the same events give byte-identical output, and starting_after gives its exact suffix', () => {
    const one = encodeResponseEvents(meta, events);
    const two = encodeResponseEvents(meta, events);
    expect(two).toBe(one);
    const all = frames(one);
    expect(all.map((f) => f.sequence_number)).toEqual(all.map((_, i) => i));
    for (const n of [-1, 0, 1, 5, 9, all.length - 2, all.length - 1, 1000]) {
      const tail = encodeResponseEvents(meta, events, { startingAfter: n });
      const expected = one.split('\n\n').filter(Boolean).slice(Math.max(0, n + 1)).map((b) => `${b}\n\n`).join('');
      expect(tail).toBe(expected);
    }
    // The typed calls the live writer uses give the same text as push().
    const live = new ResponsesEncoder(meta);
    let out = live.status() + live.status() + live.reasoning('Hmm, ') + live.reasoning('yes.') + live.token('Hello ') + live.token('"world"\n');
    out += live.toolCall({ id: 'call_1', name: 'f', arguments: '{"a":1}' });
    out += live.terminal(events.at(-1) as Extract<JarvisEvent, { type: 'done' }>);
    expect(out).toBe(one);
  });

  it('writes the items in order with ids from the response id and their index, and the final Response', () => {
    const all = frames(encodeResponseEvents(meta, events));
    expect(all.map((f) => f.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const completed = all.at(-1)!.response as Record<string, unknown>;
    expect(completed).toMatchObject({
      id: 'resp_abc123',
      object: 'response',
      created_at: 1_765_000_000,
      status: 'completed',
      instructions: 'Be brief.',
      metadata: { k: 'v' },
      usage: { input_tokens: 7, output_tokens: 3, total_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
      output: [
        { id: 'rs_abc123_0', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Hmm, yes.' }] },
        { id: 'msg_abc123_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello "world"\n' }] },
        { id: 'fc_abc123_2', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'f', arguments: '{"a":1}' },
      ],
    });
    expect(all[0]!.response).toMatchObject({ status: 'in_progress', output: [] });
    expect(parseItemId('msg_abc123_1')).toEqual({ prefix: 'msg', responseId: 'resp_abc123', index: 1 });
    expect(parseItemId('msg_other')).toBeUndefined();
  });

  it('ends a cancelled stream with response.incomplete, status cancelled and cancel_reason', () => {
    const cancelled = [...events.slice(0, 5), { ...base, type: 'cancelled', reason: 'superseded' } as JarvisEvent];
    const encoder = new ResponsesEncoder(meta);
    const last = frames(cancelled.map((e) => encoder.push(e)).join('')).at(-1)!;
    expect(last.type).toBe('response.incomplete');
    expect(last.response).toMatchObject({ status: 'cancelled', cancel_reason: 'superseded', incomplete_details: null, usage: null });
    expect(encoder.response()).toMatchObject({ status: 'cancelled', output: [{ type: 'reasoning' }, { type: 'message', status: 'incomplete', content: [{ text: 'Hello ' }] }] });
  });

  it('a length stop is incomplete (max_output_tokens); an error is an error event then response.failed', () => {
    const length = frames(encodeResponseEvents(meta, [events[0]!, events[4]!, { ...base, type: 'done', reason: 'length', usage: { prompt_tokens: 1, completion_tokens: 1 } }])).at(-1)!;
    expect(length).toMatchObject({ type: 'response.incomplete', response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } });
    const failed = frames(encodeResponseEvents(meta, [events[0]!, events[4]!, { ...base, type: 'error', code: 'upstream_error', message: 'the model server failed' }]));
    expect(failed.slice(-2)).toMatchObject([
      { type: 'error', code: 'upstream_error', message: 'the model server failed', param: null },
      { type: 'response.failed', response: { status: 'failed', error: { code: 'upstream_error', message: 'the model server failed' } } },
    ]);
  });
});
