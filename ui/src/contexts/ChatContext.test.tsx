// @vitest-environment jsdom
import { act, cleanup, render, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import type { Api } from '../lib/api.js';
import type { AssistantMessage, Conversation } from '../state/types.js';
import { ChatProvider, useChat, type ChatContextValue } from './ChatContext.js';

// The stale-event guard, driven event by event. The network is scripted (a fetch that
// hands out response streams the test writes into), so every interleaving the runbook
// worries about (late tokens of an old stream, a stray event on the new stream's
// connection, Stop racing a new prompt) happens exactly, not by luck of timing.
// The real server and browser are exercised in e2e/.

interface ScriptedStream {
  session: string;
  body: { messages: Array<{ role: string; content: string }>; model?: string };
  signal: AbortSignal;
  push(event: Record<string, unknown>): void;
  end(): void;
}

class ScriptedNetwork {
  readonly streams: ScriptedStream[] = [];
  readonly stops: string[] = [];
  /** Lets a test hold the stop endpoint's answer. */
  stopGate: Promise<void> = Promise.resolve();
  /** The next chat requests get these HTTP errors instead of a stream. */
  failNext: Array<{ status: number; code: string; message: string }> = [];

  readonly api: Api = {
    base: 'http://jarvis.test',
    fetch: async (input, init) => {
      const url = String(input);
      const stop = /\/v1\/sessions\/([^/]+)\/stop$/.exec(url);
      if (stop) {
        this.stops.push(decodeURIComponent(stop[1]!));
        await this.stopGate;
        return Response.json({ stopped: true });
      }
      if (url.endsWith('/v1/chat/completions')) return this.chat(init!);
      return new Response('{"error":{"code":"not_found","message":"no"}}', { status: 404 });
    },
  };

  private chat(init: RequestInit): Response {
    const failure = this.failNext.shift();
    if (failure) return Response.json({ error: { code: failure.code, message: failure.message } }, { status: failure.status });
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    const signal = init.signal!;
    // Like a real fetch: aborting errors the body being read.
    signal.addEventListener('abort', () => controller.error(new DOMException('The operation was aborted.', 'AbortError')));
    const session = new Headers(init.headers).get('x-session-id')!;
    this.streams.push({
      session,
      body: JSON.parse(String(init.body)),
      signal,
      push: (event) => controller.enqueue(encoder.encode(JSON.stringify({ session_id: session, ...event }) + '\n')),
      end: () => controller.close(),
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'application/x-ndjson' } });
  }
}

let chat: ChatContextValue;
function Probe() {
  chat = useChat();
  return null;
}

let net: ScriptedNetwork;
let warn: MockInstance<typeof console.warn>;
let log: MockInstance<typeof console.log>;

function mount() {
  render(
    <ChatProvider api={net.api} storage={window.localStorage} tabStorage={window.sessionStorage}>
      <Probe />
    </ChatProvider>,
  );
}

const answers = (): AssistantMessage[] => (chat.selected?.messages ?? []).filter((m): m is AssistantMessage => m.role === 'assistant');
const answer = (i: number) => answers()[i]!;
const waitForStreams = (n: number) => waitFor(() => expect(net.streams).toHaveLength(n));
const push = (i: number, event: Record<string, unknown>) => act(async () => net.streams[i]!.push(event));
const ignored = (kind: string, active: string | null, received: string | null) =>
  expect(warn).toHaveBeenCalledWith(`[chat] Ignoring ${kind} from inactive stream`, { active, received });

beforeEach(() => {
  localStorage.clear();
  sessionStorage.clear();
  net = new ScriptedNetwork();
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  log = vi.spyOn(console, 'log').mockImplementation(() => {});
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('ChatContext stale-event guard', () => {
  it('a new prompt supersedes the running answer; the old stream can never write into anything again', async () => {
    mount();
    act(() => chat.send('A'));
    await waitForStreams(1);
    await push(0, { type: 'status', status: 'thinking', stream_id: 'sA', trace_id: 'sA', model: 'm' });
    expect(log).toHaveBeenCalledWith('[chat] Stream started:', 'sA');
    await push(0, { type: 'token', text: 'a1 ', seq: 0, stream_id: 'sA' });
    await waitFor(() => expect(answer(0)).toMatchObject({ content: 'a1 ', state: 'streaming', streamId: 'sA' }));

    act(() => chat.send('B'));
    await waitForStreams(2);
    expect(net.streams[1]!.session).toBe(net.streams[0]!.session); // one conversation, one session
    expect(net.streams[1]!.body.messages).toEqual([
      { role: 'user', content: 'A' },
      { role: 'assistant', content: 'a1 ' },
      { role: 'user', content: 'B' },
    ]);
    expect(answer(0)).toMatchObject({ content: 'a1 ', state: 'superseded' });

    // A keeps talking before B's stream has started…
    await push(0, { type: 'token', text: 'a2 ', seq: 1, stream_id: 'sA' });
    await waitFor(() => ignored('delta', null, 'sA'));
    await push(1, { type: 'status', status: 'thinking', stream_id: 'sB', trace_id: 'sB', model: 'm' });
    expect(log).toHaveBeenCalledWith('[chat] Stream started:', 'sB');
    // …and after: dropped either way.
    await push(0, { type: 'token', text: 'a3 ', seq: 2, stream_id: 'sA' });
    await waitFor(() => ignored('delta', 'sB', 'sA'));
    // An event of A arriving on B's own connection is dropped too: the guard is the stream id.
    await push(1, { type: 'token', text: 'stray ', seq: 9, stream_id: 'sA' });
    await waitFor(() => expect(warn.mock.calls.filter((c) => c[0] === '[chat] Ignoring delta from inactive stream')).toHaveLength(3));
    await push(1, { type: 'token', text: 'b1 ', seq: 0, stream_id: 'sB' });
    await push(0, { type: 'cancelled', reason: 'superseded', stream_id: 'sA' });
    await waitFor(() => ignored('cancelled', 'sB', 'sA'));
    await push(1, { type: 'done', reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1 }, stream_id: 'sB' });

    await waitFor(() => expect(answer(1)).toMatchObject({ content: 'b1 ', state: 'done', streamId: 'sB' }));
    expect(answer(0)).toMatchObject({ content: 'a1 ', state: 'superseded' });
    expect(net.streams[0]!.signal.aborted).toBe(false); // the server ends A itself; we only read it out
  });

  it('Stop calls the stop endpoint, then aborts the fetch; the answer keeps its text, marked stopped', async () => {
    let openGate!: () => void;
    net.stopGate = new Promise((resolve) => (openGate = resolve));
    mount();
    act(() => chat.send('A'));
    await waitForStreams(1);
    await push(0, { type: 'status', status: 'thinking', stream_id: 'sA', trace_id: 'sA', model: 'm' });
    await push(0, { type: 'token', text: 'partial', seq: 0, stream_id: 'sA' });
    await waitFor(() => expect(answer(0).content).toBe('partial'));

    act(() => chat.stop());
    expect(answer(0)).toMatchObject({ content: 'partial', state: 'stopped' });
    await waitFor(() => expect(net.stops).toEqual([chat.selected!.id]));
    expect(net.streams[0]!.signal.aborted).toBe(false); // not before the endpoint has answered
    await push(0, { type: 'token', text: ' more', seq: 1, stream_id: 'sA' });
    await waitFor(() => ignored('delta', null, 'sA'));

    // A prompt sent while Stop is in flight waits for it: otherwise Stop could land on the new stream.
    act(() => chat.send('B'));
    await act(async () => {
      await new Promise((r) => setTimeout(r, 20));
    });
    expect(net.streams).toHaveLength(1);
    await act(async () => openGate());
    await waitFor(() => expect(net.streams[0]!.signal.aborted).toBe(true));
    await waitForStreams(2);
    expect(answer(0)).toMatchObject({ content: 'partial', state: 'stopped' });
  });

  it('two prompts sent before React renders land in one conversation, the second superseding the first', async () => {
    mount();
    act(() => {
      chat.send('A');
      chat.send('B');
    });
    await waitForStreams(2);
    expect(chat.conversations).toHaveLength(1);
    expect(net.streams[1]!.session).toBe(net.streams[0]!.session);
    expect(net.streams[1]!.body.messages).toEqual([
      { role: 'user', content: 'A' },
      { role: 'user', content: 'B' },
    ]);
    expect(answers().map((a) => a.state)).toEqual(['superseded', 'thinking']);
    // A's stream starting late cannot take over: only the request that owns the session may.
    await push(0, { type: 'status', status: 'thinking', stream_id: 'sA', trace_id: 'sA', model: 'm' });
    await waitFor(() => ignored('status', null, 'sA'));
    await push(1, { type: 'status', status: 'thinking', stream_id: 'sB', trace_id: 'sB', model: 'm' });
    await push(0, { type: 'token', text: 'a', seq: 0, stream_id: 'sA' });
    await push(1, { type: 'token', text: 'b', seq: 0, stream_id: 'sB' });
    await waitFor(() => expect(answer(1).content).toBe('b'));
    expect(answer(0).content).toBe('');
  });

  it('a server-side cancel of the active stream (a prompt from another tab) marks it superseded', async () => {
    mount();
    act(() => chat.send('A'));
    await waitForStreams(1);
    await push(0, { type: 'status', status: 'thinking', stream_id: 'sA', trace_id: 'sA', model: 'm' });
    await push(0, { type: 'token', text: 'x', seq: 0, stream_id: 'sA' });
    await push(0, { type: 'cancelled', reason: 'superseded', stream_id: 'sA' });
    await waitFor(() => expect(answer(0)).toMatchObject({ content: 'x', state: 'superseded' }));
  });

  it('an error shows on the answer, and Retry asks again in place', async () => {
    net.failNext.push({ status: 502, code: 'upstream_unavailable', message: 'Ollama is not running' });
    mount();
    act(() => chat.send('A'));
    await waitFor(() => expect(answer(0)).toMatchObject({ state: 'error', error: { code: 'upstream_unavailable', message: 'Ollama is not running' } }));

    act(() => chat.retry(answer(0).id));
    await waitForStreams(1);
    expect(net.streams[0]!.body.messages).toEqual([{ role: 'user', content: 'A' }]);
    await push(0, { type: 'status', status: 'thinking', stream_id: 'sR', trace_id: 'sR', model: 'm' });
    await push(0, { type: 'token', text: 'ok', seq: 0, stream_id: 'sR' });
    await push(0, { type: 'done', reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1 }, stream_id: 'sR' });
    await waitFor(() => expect(answer(0)).toMatchObject({ content: 'ok', state: 'done' }));
    expect(answers()).toHaveLength(1);
  });

  it('conversations survive a remount; an answer left live loads as stopped with its text', async () => {
    mount();
    act(() => chat.send('first question'));
    await waitForStreams(1);
    await push(0, { type: 'status', status: 'thinking', stream_id: 's1', trace_id: 's1', model: 'm' });
    await push(0, { type: 'token', text: 'half an answer', seq: 0, stream_id: 's1' });
    await waitFor(() => expect(answer(0).content).toBe('half an answer'));
    const id = chat.selected!.id;
    act(() => chat.rename(id, 'Renamed'));
    act(() => chat.newConversation());
    await waitFor(() => expect(Object.keys(localStorage).filter((k) => k.startsWith('jarvis.conversation.'))).toHaveLength(2));
    await waitFor(() => expect(JSON.parse(localStorage.getItem(`jarvis.conversation.${id}`)!).title).toBe('Renamed'));
    // Simulate the tab going away mid-answer: unmount flushes what it has.
    cleanup();

    mount();
    expect(chat.conversations.map((c: Conversation) => c.title).sort()).toEqual(['New chat', 'Renamed']);
    act(() => chat.select(id));
    expect(answer(0)).toMatchObject({ content: 'half an answer', state: 'stopped' });
  });
});
