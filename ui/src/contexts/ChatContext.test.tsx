// @vitest-environment jsdom
import { act, cleanup, render, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import type { Api } from '../../../src/client/api.js';
import type { AssistantMessage } from '../../../src/client/chat/types.js';
import { ChatProvider, useChat, type ChatContextValue } from './ChatContext.js';

// The stale-event guard, driven event by event: events of a superseded or stopped
// stream never reach the answer that replaced it. The network is scripted (a fetch
// that speaks the Conversations API and hands out response streams the test writes
// into), so every interleaving (late tokens of an old stream, an old stream's event on
// the new one's connection, a reattach after a drop, Stop racing a new prompt) happens
// exactly, not by luck of timing. The real server and browser are in e2e/.

/** One streamed response: a prompt's own (POST …/messages) or a reattach (GET /v1/streams/{id}/events). */
interface ScriptedStream {
  url: string;
  signal: AbortSignal;
  push(event: Record<string, unknown>): void;
  /** The connection breaks (a network drop). */
  drop(): void;
}

const CONVERSATION = 'conv_1';

class ScriptedServer {
  readonly prompts: ScriptedStream[] = [];
  readonly reattaches: ScriptedStream[] = [];
  readonly stops: string[] = [];
  /** Lets a test hold the stop endpoint's answer. */
  stopGate: Promise<void> = Promise.resolve();
  /** The stream ids the next prompts get, in order. */
  streamIds: string[] = [];
  private messages = 0;

  readonly api: Api = {
    base: 'http://jarvis.test',
    fetch: async (input, init) => {
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      const route = `${method} ${url.pathname}`;
      if (route === 'GET /v1/conversations') return Response.json({ object: 'list', data: [], has_more: false, next_cursor: null });
      if (route === 'GET /v1/conversations/events') return this.stream(String(input), init!.signal!, [{ type: 'ready' }]).response;
      if (route === 'POST /v1/conversations') return Response.json(conversation(), { status: 201 });
      if (route === `POST /v1/conversations/${CONVERSATION}/messages`) {
        const streamId = this.streamIds.shift()!;
        const user = `msg_u${++this.messages}`;
        const answer = `msg_a${this.messages}`;
        const { stream, response } = this.stream(String(input), init!.signal!, [], { 'x-stream-id': streamId, 'x-message-id': answer, 'x-user-message-id': user });
        this.prompts.push(stream);
        return response;
      }
      if (route === `POST /v1/conversations/${CONVERSATION}/stop`) {
        this.stops.push(CONVERSATION);
        await this.stopGate;
        return Response.json({ stopped: true });
      }
      const follow = /^GET \/v1\/streams\/([^/]+)\/events$/.exec(route);
      if (follow) {
        const { stream, response } = this.stream(String(input), init!.signal!, [], { 'x-stream-id': follow[1]! });
        this.reattaches.push(stream);
        return response;
      }
      return Response.json({ error: { code: 'not_found', message: `no ${route}` } }, { status: 404 });
    },
  };

  private stream(url: string, signal: AbortSignal, first: Array<Record<string, unknown>>, headers: Record<string, string> = {}) {
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    // Like a real fetch: aborting errors the body being read.
    signal.addEventListener('abort', () => controller.error(new DOMException('The operation was aborted.', 'AbortError')));
    const stream: ScriptedStream = {
      url,
      signal,
      push: (event) => controller.enqueue(encoder.encode(JSON.stringify({ session_id: CONVERSATION, ...event }) + '\n')),
      drop: () => controller.error(new TypeError('network error')),
    };
    for (const event of first) stream.push(event);
    return { stream, response: new Response(body, { status: 200, headers: { 'content-type': 'application/x-ndjson', ...headers } }) };
  }
}

function conversation() {
  const now = new Date().toISOString();
  return { id: CONVERSATION, object: 'conversation', title: 'A', system: null, model: null, temperature: null, max_tokens: null, created_at: now, updated_at: now };
}

const status = (id: string) => ({ type: 'status', status: 'thinking', stream_id: id, trace_id: id, model: 'm' });
const token = (id: string, text: string, seq: number) => ({ type: 'token', text, seq, stream_id: id });
const done = (id: string) => ({ type: 'done', reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1 }, stream_id: id });

let chat: ChatContextValue;
function Probe() {
  chat = useChat();
  return null;
}

let server: ScriptedServer;
// The guard's drops are logged at debug level: an expected case, not a warning (docs/ui.md).
let debug: MockInstance<typeof console.debug>;

/** The page as a user finds it: the list read (an empty one), the feed followed. */
async function mount() {
  render(
    <ChatProvider api={server.api} storage={window.localStorage} tabStorage={window.sessionStorage} backoff={{ firstMs: 5, maxMs: 20, random: () => 0.5 }}>
      <Probe />
    </ChatProvider>,
  );
  await waitFor(() => expect(chat.listed).toBe(true));
}

/** A new chat's first prompt "A", answered on stream sA up to its first token `first`: A's response stream. */
async function firstAnswer(first: string): Promise<ScriptedStream> {
  await mount();
  act(() => chat.send('A'));
  await waitFor(() => expect(server.prompts).toHaveLength(1));
  const a = server.prompts[0]!;
  await push(a, status('sA'));
  await push(a, token('sA', first, 0));
  await waitFor(() => expect(answer(0)).toMatchObject({ content: first, state: 'streaming', streamId: 'sA' }));
  return a;
}

/** The next prompt's response stream, once it is asked for, with its `status` sent. */
async function nextPrompt(index: number, streamId: string): Promise<ScriptedStream> {
  await waitFor(() => expect(server.prompts).toHaveLength(index + 1));
  const stream = server.prompts[index]!;
  await push(stream, status(streamId));
  return stream;
}

const answers = (): AssistantMessage[] => (chat.selected?.messages ?? []).filter((m): m is AssistantMessage => m.role === 'assistant');
const answer = (i: number) => answers()[i]!;
const push = (stream: ScriptedStream | undefined, event: Record<string, unknown>) => act(async () => stream!.push(event));
const ignoredCount = (kind: string) => debug.mock.calls.filter((c) => c[0] === `[chat] Ignoring ${kind} from inactive stream`).length;
/** Lets every read already queued run (the scripted streams deliver on microtasks and a macrotask hop). */
const settle = () => act(() => new Promise((resolve) => setTimeout(resolve, 20)));

beforeEach(() => {
  localStorage.clear();
  sessionStorage.clear();
  server = new ScriptedServer();
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'debug').mockImplementation(() => {});
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('ChatContext stale-event guard', () => {
  it('a new prompt supersedes the running answer mid-stream; the old stream never writes into anything again', async () => {
    server.streamIds = ['sA', 'sB'];
    const a = await firstAnswer('a1 ');

    act(() => chat.send('B'));
    expect(answer(0)).toMatchObject({ content: 'a1 ', state: 'superseded' });
    // A keeps talking before B's response has come…
    await push(a, token('sA', 'a2 ', 1));
    await waitFor(() => expect(ignoredCount('delta')).toBe(1));
    const b = await nextPrompt(1, 'sB');
    // …and after it: dropped either way.
    await push(a, token('sA', 'a3 ', 2));
    await waitFor(() => expect(ignoredCount('delta')).toBe(2));
    await push(b, token('sB', 'b1 ', 0));
    // An event of A arriving on B's own connection is dropped too: the guard is the stream id.
    await push(b, token('sA', 'stray ', 1));
    await waitFor(() => expect(ignoredCount('delta')).toBe(3));
    await push(a, { type: 'cancelled', reason: 'superseded', stream_id: 'sA' });
    await waitFor(() => expect(ignoredCount('cancelled')).toBe(1));
    await push(b, done('sB'));

    await waitFor(() => expect(answer(1)).toMatchObject({ content: 'b1 ', state: 'done', streamId: 'sB' }));
    expect(answer(0)).toMatchObject({ content: 'a1 ', state: 'superseded' });
    expect(a.signal.aborted).toBe(false); // the server ends A itself; we only read it out
  });

  it('after a drop the answer reattaches at its last seq and completes, nothing shown twice', async () => {
    server.streamIds = ['sA'];
    const a = await firstAnswer('a0 ');
    await push(a, token('sA', 'a1 ', 1));
    await waitFor(() => expect(answer(0).content).toBe('a0 a1 '));

    act(() => a.drop());
    await waitFor(() => expect(server.reattaches).toHaveLength(1));
    const again = server.reattaches[0]!;
    expect(again.url).toBe('http://jarvis.test/v1/streams/sA/events?after=1');
    expect(answer(0).state).toBe('streaming');
    // A replay that overlaps what the page has, then the rest.
    await push(again, token('sA', 'a1 ', 1));
    await push(again, token('sA', 'a2 ', 2));
    await push(again, done('sA'));
    await waitFor(() => expect(answer(0)).toMatchObject({ content: 'a0 a1 a2 ', state: 'done', reconnecting: false }));
    expect(ignoredCount('delta')).toBe(0);
  });

  it('a reattach of an answer superseded meanwhile never writes into the new answer', async () => {
    server.streamIds = ['sA', 'sB'];
    const a = await firstAnswer('a0 ');
    act(() => a.drop());
    await waitFor(() => expect(server.reattaches).toHaveLength(1));
    const again = server.reattaches[0]!;

    act(() => chat.send('B'));
    const b = await nextPrompt(1, 'sB');
    await push(again, token('sA', 'a1 ', 1));
    await push(again, { type: 'cancelled', reason: 'superseded', stream_id: 'sA' });
    await waitFor(() => expect(ignoredCount('delta')).toBe(1));
    await waitFor(() => expect(ignoredCount('cancelled')).toBe(1));
    await push(b, token('sB', 'b0 ', 0));
    await push(b, done('sB'));
    await waitFor(() => expect(answer(1)).toMatchObject({ content: 'b0 ', state: 'done' }));
    expect(answer(0)).toMatchObject({ content: 'a0 ', state: 'superseded' });
  });

  it('Stop: the answer keeps its text, marked stopped; tokens already on their way and the end are dropped quietly; the next prompt waits for the stop', async () => {
    let openGate!: () => void;
    server.stopGate = new Promise((resolve) => (openGate = resolve));
    server.streamIds = ['sA', 'sB'];
    const a = await firstAnswer('a0 ');

    act(() => chat.stop());
    expect(answer(0)).toMatchObject({ content: 'a0 ', state: 'stopped' });
    await waitFor(() => expect(server.stops).toEqual([CONVERSATION]));
    await push(a, token('sA', 'a1 ', 1)); // already on its way when Stop was pressed

    // A new prompt while the stop is still being delivered: it goes only once the stop has.
    act(() => chat.send('B'));
    await settle();
    expect(server.prompts).toHaveLength(1);
    await act(async () => openGate());
    const b = await nextPrompt(1, 'sB');
    await push(a, token('sA', 'a2 ', 2));
    await push(a, { type: 'cancelled', reason: 'stopped', stream_id: 'sA' });
    await push(b, token('sB', 'b0 ', 0));
    await push(b, done('sB'));
    await waitFor(() => expect(answer(1)).toMatchObject({ content: 'b0 ', state: 'done' }));
    expect(answer(0)).toMatchObject({ content: 'a0 ', state: 'stopped' });
    // The end of the answer we stopped was expected: no "inactive stream" warning for it.
    expect(debug.mock.calls.filter((c) => String(c[0]).startsWith('[chat] Ignoring'))).toEqual([]);
  });
});
