import { describe, expect, it } from 'vitest';
import { decode, encodeItem } from '../../../src/streams/cluster/eventLog/redisEntries.js';
import { itemChars, type LogItem } from '../../../src/streams/eventLog/types.js';
import { fakeLogprob } from '../../helpers/fakes/fakeLogprobs.js';

// The two log items only a request with logprobs or n writes: a cluster's Redis log keeps them
// as it keeps the others, and the log's size bound counts them.

describe('logprobs and choice items in the event log', () => {
  const items: LogItem[] = [
    { kind: 'logprobs', seq: 3, content: [fakeLogprob('Hi', 2)] },
    { kind: 'choice', delta: { index: 1, text: '[1]Hi', logprobs: [fakeLogprob('[1]Hi', 2)] } },
    { kind: 'choice', delta: { index: 2, finish: 'length' } },
  ];

  it.each(items)('round-trips through a Redis entry: %j', (item) => {
    const entry = encodeItem(item, { seq: 3, extra: 0 });
    expect(entry.id).toBe('5-1');
    expect(decode(entry.type, entry.value)).toEqual({ kind: 'item', item });
  });

  it('counts against the log’s size bound', () => {
    for (const item of items) expect(itemChars(item)).toBeGreaterThan(0);
  });
});
