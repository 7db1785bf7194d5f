import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/server/errors.js';
import { refuseWhatCannotBeHonoured, toBackendRequest } from '../../../src/server/protocols/responses/request.js';
import type { ResponsesBody } from '../../../src/server/protocols/responses/schemas.js';
import type { OutputItem } from '../../../src/server/protocols/responses/types.js';

// The mapping of a Responses body onto the backend request (docs/responses.md "Input").

function refusal(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error('expected a 400');
}

describe('Responses request mapping', () => {
  it('items: a turn\'s text and its calls become one assistant message; outputs are tool messages; reasoning is dropped', () => {
    const body: ResponsesBody = {
      instructions: 'Be brief.',
      input: [
        { role: 'user', content: 'weather in Paris and Rome?' },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'two calls' }] },
        { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
        { type: 'function_call', call_id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'c2', name: 'get_weather', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'c1', output: 'sunny' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'rain' }] },
        { type: 'item_reference', id: 'rs_2' },
      ],
      text: { format: { type: 'json_object' } },
      reasoning: { effort: 'none' },
      max_output_tokens: 50,
      tool_choice: 'required',
    };
    const request = toBackendRequest(body, 'm');
    expect(request.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking.',
        toolCalls: [
          { id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'c2', name: 'get_weather', arguments: '{"city":"Rome"}' },
        ],
      },
      { role: 'tool', toolCallId: 'c1', content: 'sunny' },
      { role: 'tool', toolCallId: 'c2', content: 'rain' },
    ]);
    expect(request).toMatchObject({ responseFormat: { type: 'json_object' }, think: false, maxTokens: 50, toolChoice: 'required' });
  });

  it('an item_reference is replaced by the stored item; one to an item not held is a 400 that says what to send', () => {
    const stored = new Map<string, OutputItem>([['msg_x_0', { id: 'msg_x_0', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Earlier.', annotations: [], logprobs: [] }] }]]);
    const body: ResponsesBody = { input: [{ role: 'user', content: 'hi' }, { type: 'item_reference', id: 'msg_x_0' }, { role: 'user', content: 'and?' }] };
    expect(toBackendRequest(body, 'm', stored).messages[1]).toEqual({ role: 'assistant', content: 'Earlier.' });
    const err = refusal(() => toBackendRequest(body, 'm'));
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/item_reference "msg_x_0" names no stored item .*send the item itself/);
  });

  it('previous_response_id and background are refused until a store serves them; hosted tools and conversations always', () => {
    expect(refusal(() => refuseWhatCannotBeHonoured({ previous_response_id: 'resp_1' }, { stored: false })).param).toBe('previous_response_id');
    expect(refusal(() => refuseWhatCannotBeHonoured({ background: true }, { stored: false })).param).toBe('background');
    expect(() => refuseWhatCannotBeHonoured({ previous_response_id: 'resp_1', background: true }, { stored: true })).not.toThrow();
    expect(refusal(() => refuseWhatCannotBeHonoured({ tools: [{ type: 'file_search' }] }, { stored: true })).message).toMatch(/OpenAI-hosted/);
    expect(refusal(() => refuseWhatCannotBeHonoured({ tool_choice: { type: 'function', name: 'f' } }, { stored: true })).message).toMatch(/not in "tools"/);
    expect(refusal(() => refuseWhatCannotBeHonoured({ include: ['message.output_text.logprobs'] }, { stored: true })).param).toBe('include');
    // The refusal points at the route that serves logprobs (docs/api.md "Logprobs and n").
    expect(refusal(() => refuseWhatCannotBeHonoured({ top_logprobs: 3 }, { stored: true })).message).toMatch(/use \/v1\/chat\/completions/);
    expect(() => refuseWhatCannotBeHonoured({ include: ['reasoning.encrypted_content'], truncation: 'auto', store: true }, { stored: false })).not.toThrow();
    expect(refusal(() => toBackendRequest({ input: [{ role: 'tool', content: 'x' }] }, 'm')).param).toBe('input[0].role');
    expect(refusal(() => toBackendRequest({ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }, 'm')).param).toBe('input[0].content[0]');
  });
});
