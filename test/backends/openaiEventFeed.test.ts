import { describe, expect, it } from 'vitest';
import { createParser } from 'eventsource-parser';
import { OpenAIEventFeed } from '../../src/backends/openai/eventFeed.js';
import { OpenAIEventReader } from '../../src/backends/openai/wire.js';
import type { BackendChunk } from '../../src/backends/types.js';
import { TRICKY } from '../helpers/scenarios/trickyText.js';

// OpenAIEventFeed reads plain token events where they lie in each read and hands
// the rest to the SSE parser. However the reads cut the body, and whatever else the
// body holds, the chunks must be the ones a parser reading the whole body gives.

const chunk = (content: string, x: { created?: number; finish?: string; usage?: boolean } = {}) =>
  JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: x.created ?? 1, model: 'm', choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: x.finish ?? null }], ...(x.usage ? { usage: { prompt_tokens: 3, completion_tokens: 9 } } : {}) });

/** A body of events: plain tokens around everything that must leave the fast path. */
function body(eol = '\n'): string {
  const events = [
    chunk('first '),
    ...TRICKY.map((t) => chunk(t)),
    chunk('same again '),
    chunk('new clock ', { created: 2 }),
    chunk('after it '),
    ...Array.from({ length: 20 }, (_, i) => chunk(`t${i} `)),
  ];
  let out = events.map((e) => `data: ${e}${eol}${eol}`).join('');
  // A comment, an event name, an id, and a data field split over two lines: all the parser's.
  out += `: keep-alive${eol}${eol}event: message${eol}id: 7${eol}data: ${chunk('named ')}${eol}${eol}`;
  out += `data: {"id":"chatcmpl-1","object":"chat.completion.chunk",${eol}data: "created":1}${eol}${eol}`;
  out += ['more ', 'words '].map((t) => `data: ${chunk(t)}${eol}${eol}`).join('');
  out += `data:${chunk('no space ')}${eol}${eol}`;
  out += `data: ${chunk('', { finish: 'stop' })}${eol}${eol}data: ${chunk('', { usage: true })}${eol}${eol}data: [DONE]${eol}${eol}`;
  out += `data: ${chunk('after done ')}${eol}${eol}`;
  return out;
}

/** What a parser reading the whole body at once gives. */
function reference(text: string): BackendChunk[] {
  const reader = new OpenAIEventReader();
  const out: BackendChunk[] = [];
  let ended = false;
  const parser = createParser({
    onEvent: (e) => {
      if (ended) return;
      if (e.data === '[DONE]') ended = true;
      else {
        try {
          reader.read(e.data, out);
        } catch {
          // the two-line data event is not JSON on its own lines joined: skipped in both
        }
      }
    },
  });
  parser.feed(text);
  return out;
}

function viaFeed(bytes: Buffer, cuts: number[]): { chunks: BackendChunk[]; ended: boolean } {
  const feed = new OpenAIEventFeed();
  const out: BackendChunk[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    feed.push(bytes.subarray(at, cut));
    out.push(...feed.take());
    // The two-line event is not one JSON object: a failure, as it would end a real stream; read on past it here.
    feed.failure = undefined;
    at = cut;
    if (feed.ended) break;
  }
  return { chunks: out, ended: feed.ended };
}

describe('OpenAIEventFeed', () => {
  for (const [name, eol] of [['LF', '\n'], ['CRLF', '\r\n']] as const) {
    it(`${name}: cut at every byte, the chunks are a whole-body parse's`, () => {
      const text = body(eol);
      const bytes = Buffer.from(text);
      const expected = reference(text);
      expect(expected.filter((c) => c.type === 'token').length).toBeGreaterThan(40);
      for (let cut = 1; cut < bytes.length; cut++) {
        const got = viaFeed(bytes, [cut]);
        expect(got.ended).toBe(true);
        expect(got.chunks, `cut at ${cut}`).toEqual(expected);
      }
    });

    it(`${name}: cut at random places, many times, the same`, () => {
      const text = body(eol);
      const bytes = Buffer.from(text);
      const expected = reference(text);
      let seed = 7;
      const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      for (let round = 0; round < 300; round++) {
        const cuts = Array.from({ length: 1 + Math.floor(next() * 12) }, () => 1 + Math.floor(next() * (bytes.length - 1))).sort((a, b) => a - b);
        expect(viaFeed(bytes, cuts).chunks, `cuts ${cuts.join(',')}`).toEqual(expected);
      }
    });
  }

  it('plain tokens after the first are read in place: no event reaches the parser', () => {
    const feed = new OpenAIEventFeed();
    feed.push(Buffer.from(`data: ${chunk('first ')}\n\n`));
    let parsed = 0;
    const read = feed.reader.read.bind(feed.reader);
    feed.reader.read = (data, batch) => {
      parsed++;
      read(data, batch);
    };
    feed.push(Buffer.from(Array.from({ length: 100 }, (_, i) => `data: ${chunk(`t${i} `)}\n\n`).join('')));
    expect(feed.take()).toHaveLength(101);
    expect(parsed).toBe(0);
  });
});
