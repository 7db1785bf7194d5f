import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { readLog } from '../helpers/log.js';
import { LIFECYCLE_EVENT_SET } from '../../src/log/lifecycleEvents.js';
import { FIRST_TOKEN_EVENT, type LifecycleRecord } from '../../src/shared/lifecycle.js';
import { feedReaders, ofStream, type FeedEntry } from './feedReader.js';

// The live timeline's feed (docs/observability.md "The feed"): what a runbook scenario puts in it,
// in order and with the fields the log writes; resume after a drop; the bounds.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});
const feed = feedReaders();

const slow = (prompt: string, extra: object = {}) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10, ...extra });
const events = (entries: FeedEntry[]) => entries.map((e) => e.record.event);
const before = (entries: FeedEntry[], a: (r: LifecycleRecord) => boolean, b: (r: LifecycleRecord) => boolean) => {
  const ia = entries.findIndex((e) => a(e.record));
  const ib = entries.findIndex((e) => b(e.record));
  expect(ia, 'first record present').toBeGreaterThanOrEqual(0);
  expect(ib, 'second record present').toBeGreaterThanOrEqual(0);
  expect(ia).toBeLessThan(ib);
};

describe('the ops feed', () => {
  it('shows a supersede, a Stop, a client disconnect and a hanging upstream, in order, with the log lines\' fields', async () => {
    j = await startTestJarvis({ JARVIS_FIRST_TOKEN_TIMEOUT_MS: '1500' });
    const url = j.url;
    j.fake!.plan = (prompt) => (prompt === 'hang' ? { tokens: [], tokenMs: 5, fault: 'hang_after_headers' } : slow(prompt));
    const r = await feed(url);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(r.headers['cache-control']).toBe('no-cache');

    // A supersede: A, then B on the same session.
    const a = chat(url, { session: 'sup', prompt: 'A' });
    await a.firstToken();
    const b = chat(url, { session: 'sup', prompt: 'B' });
    await b.firstToken();
    // A Stop.
    const s = chat(url, { session: 'stopme', prompt: 'S' });
    await s.firstToken();
    expect((await postJson(`${url}/v1/sessions/stopme/stop`, '')).status).toBe(200);
    // A client that goes away.
    const gone = new AbortController();
    const d = chat(url, { session: 'gone', prompt: 'D', signal: gone.signal });
    await d.firstToken();
    gone.abort();
    // An upstream that never sends a token.
    const h = chat(url, { session: 'hang', prompt: 'hang' });
    await postJson(`${url}/v1/sessions/sup/stop`, '');
    await Promise.all([a.finished, b.finished, s.finished, d.finished.catch(() => {}), h.finished]);
    const [aId, bId, sId, dId, hId] = await Promise.all([a.streamId, b.streamId, s.streamId, d.streamId, h.streamId]);
    for (const id of [aId, bId, sId, dId, hId]) await r.waitFor((rec) => rec.event === 'stream_end' && rec.fields.trace === id, `stream_end of ${id}`);
    const all = r.records;

    // Ids only grow, one by one on a single instance.
    for (let i = 1; i < all.length; i++) expect(all[i]!.id).toBe(all[i - 1]!.id + 1);
    expect(all.every((e) => e.record.instance === '')).toBe(true);

    // The supersede: A started, had its first token, was cancelled, B waited for it, A ended, then B went on.
    const ofA = ofStream(all, aId);
    expect(events(ofA)).toEqual(expect.arrayContaining(['stream_start', FIRST_TOKEN_EVENT, 'stream_cancelled', 'stream_end']));
    before(all, (x) => x.event === 'stream_start' && x.fields.trace === aId, (x) => x.event === FIRST_TOKEN_EVENT && x.fields.trace === aId);
    before(all, (x) => x.event === FIRST_TOKEN_EVENT && x.fields.trace === aId, (x) => x.event === 'stream_start' && x.fields.trace === bId);
    before(all, (x) => x.event === 'stream_end' && x.fields.trace === aId, (x) => x.event === 'prev_stream_finished_cleanly' && x.fields.new_trace === bId);
    before(all, (x) => x.event === 'prev_stream_finished_cleanly' && x.fields.new_trace === bId, (x) => x.event === FIRST_TOKEN_EVENT && x.fields.trace === bId);
    expect(ofA.find((e) => e.record.event === 'stream_cancelled')!.record.fields.reason).toBe('superseded');
    expect(ofA.find((e) => e.record.event === 'stream_end')!.record.fields).toMatchObject({ session: 'sup', reason: 'superseded' });
    const first = ofA.find((e) => e.record.event === FIRST_TOKEN_EVENT)!.record;
    expect(first.fields).toMatchObject({ trace: aId, stream_id: aId, session: 'sup' });
    expect(Number(first.fields.ttft_ms)).toBeGreaterThanOrEqual(0);

    // The Stop: the stream cancelled as stopped, then its end; the stop endpoint's answer (once the stream ended).
    before(all, (x) => x.event === 'stream_cancelled' && x.fields.trace === sId && x.fields.reason === 'stopped', (x) => x.event === 'stream_end' && x.fields.trace === sId);
    expect(all.find((e) => e.record.event === 'session_stop' && e.record.fields.session === 'stopme')?.record.fields.stopped).toBe('true');
    expect(ofStream(all, sId).find((e) => e.record.event === 'stream_end')!.record.fields.reason).toBe('stopped');
    // The client that went away.
    expect(ofStream(all, dId).find((e) => e.record.event === 'stream_end')!.record.fields.reason).toBe('client_closed');
    // The hanging upstream: no first token, the watchdog's upstream_error, then its end.
    const ofH = ofStream(all, hId);
    expect(events(ofH)).not.toContain(FIRST_TOKEN_EVENT);
    before(ofH, (x) => x.event === 'upstream_error' && x.fields.code === 'timeout', (x) => x.event === 'stream_end');
    expect(ofH.at(-1)!.record.fields).toMatchObject({ reason: 'error', error_code: 'timeout' });
    // Every stream with a first token had it before its end.
    for (const id of [aId, bId, sId, dId]) before(all, (x) => x.event === FIRST_TOKEN_EVENT && x.fields.trace === id, (x) => x.event === 'stream_end' && x.fields.trace === id);

    // The feed holds every lifecycle line of the log, with the same fields, in the same order (the log adds nothing per token to it).
    const fed = all.filter((e) => e.record.event !== FIRST_TOKEN_EVENT).map((e) => e.record);
    const fedByKey = fed.map((x) => `${x.event} ${JSON.stringify(x.fields)}`);
    // The file is written asynchronously: wait until it has the lines the feed has, from the first
    // line the feed has (the feed began after server_listening).
    const loggedKeys = () => {
      const keys = readLog(j!.logFile)
        .filter((l) => LIFECYCLE_EVENT_SET.has(l.event))
        .map((l) => `${l.event} ${JSON.stringify(l.fields)}`);
      return keys.slice(keys.indexOf(fedByKey[0]!), keys.indexOf(fedByKey[0]!) + fedByKey.length);
    };
    await expect.poll(() => loggedKeys().length, { timeout: 5000 }).toBe(fedByKey.length);
    expect(fedByKey).toEqual(loggedKeys());
    expect(fed.some((x) => x.event === 'stream_token')).toBe(false);
  });

  it('resumes after Last-Event-ID with exactly the records missed', async () => {
    j = await startTestJarvis();
    j.fake!.plan = () => ({ tokens: ['a ', 'b'], tokenMs: 2 });
    const always = await feed(j.url);
    const dropped = await feed(j.url);
    const one = chat(j.url, { session: 's1', prompt: 'one' });
    await one.finished;
    const oneId = await one.streamId;
    await dropped.waitFor((x) => x.event === 'stream_end' && x.fields.trace === oneId);
    const lastSeen = dropped.lastId!;
    dropped.close();
    await dropped.ended;
    for (const p of ['two', 'three']) await chat(j.url, { session: 's1', prompt: p }).finished;
    await always.waitFor(() => always.records.filter((e) => e.record.event === 'stream_end').length === 3, 'three stream_end');
    const back = await feed(j.url, { 'last-event-id': String(lastSeen) });
    await back.waitFor(() => back.records.filter((e) => e.record.event === 'stream_end').length === 2, 'the two missed stream_end');
    expect(back.items.some((i) => i.kind === 'reset')).toBe(false);
    const missed = always.records.filter((e) => e.id > lastSeen);
    expect(missed.length).toBeGreaterThan(5);
    expect(back.records.slice(0, missed.length)).toEqual(missed);
  });

  it('an id that fell out of the ring gets a reset, then the whole ring', async () => {
    j = await startTestJarvis({ JARVIS_OPS_RETAIN_RECORDS: '12' });
    j.fake!.plan = () => ({ tokens: ['a ', 'b'], tokenMs: 2 });
    const early = await feed(j.url);
    await chat(j.url, { session: 'x', prompt: 'first' }).finished;
    await early.waitFor((x) => x.event === 'stream_end');
    const oldId = early.records[0]!.id;
    for (let i = 0; i < 4; i++) await chat(j.url, { session: 'x', prompt: `p${i}` }).finished;
    await early.waitFor(() => early.records.filter((e) => e.record.event === 'stream_end').length === 5, 'five stream_end');
    const ring = (await fetch(`${j.url}/v1/admin/ops/records`).then((res) => res.json())) as LifecycleRecord[];
    expect(ring).toHaveLength(12);
    for (const id of [String(oldId), '1', 'not-a-number']) {
      const back = await feed(j.url, { 'last-event-id': id });
      await back.waitFor(() => back.records.length === 12);
      expect(back.items.find((i) => i.kind !== 'comment')?.kind).toBe('reset');
      expect(back.records.map((e) => e.record)).toEqual(ring);
      // The ring, in order, is the feed's last 12.
      expect(back.records.map((e) => e.id)).toEqual(early.records.slice(-12).map((e) => e.id));
      back.close();
    }
    // A reader without an id (a page opened anew) gets the ring without a reset.
    const fresh = await feed(j.url);
    await fresh.waitFor(() => fresh.records.length === 12);
    expect(fresh.items.some((i) => i.kind === 'reset')).toBe(false);
  });

  it('carries the lifecycle lines a higher JARVIS_LOG_LEVEL keeps out of the file', async () => {
    j = await startTestJarvis({ JARVIS_LOG_LEVEL: 'warn' });
    j.fake!.plan = () => ({ tokens: ['a ', 'b'], tokenMs: 2 });
    const r = await feed(j.url);
    const c = chat(j.url, { session: 'quiet', prompt: 'q' });
    await c.finished;
    const id = await c.streamId;
    const end = await r.waitFor((x) => x.event === 'stream_end' && x.fields.trace === id, 'stream_end');
    expect(end.record.level).toBe('info');
    expect(events(ofStream(r.records, id))).toEqual(expect.arrayContaining(['stream_start', FIRST_TOKEN_EVENT, 'stream_end']));
    expect(readLog(j.logFile).some((l) => l.event === 'stream_start' || l.event === 'stream_end')).toBe(false);
  });
});
