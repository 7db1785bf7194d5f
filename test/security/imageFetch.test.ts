import { afterEach, describe, expect, it } from 'vitest';
import { PNG, ImageHost, RawHost } from '../helpers/fakes/imageHost.js';
import { postJson } from '../helpers/chatClient.js';
import { freePort } from '../helpers/freePort.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events } from '../helpers/log.js';

// Images named by URL in chat requests (docs/security.md "Images in requests"), over
// real HTTP: a real Jarvis, a fake Ollama that records what it was sent, and small
// web servers on loopback as the image hosts. Loopback is exactly what Jarvis must
// not fetch from, so the tests that need a fetch to work allow-list their host.

const MODEL = 'fake-llama:latest';
const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdefgh';
const KEYS = { JARVIS_API_KEYS: `alice:${ALICE},bob:${BOB}` };
const as = (key: string) => ({ authorization: `Bearer ${key}` });

let servers: TestJarvis[] = [];
let hosts: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  for (const h of hosts) await h.stop();
  servers = [];
  hosts = [];
});

async function jarvis(env: Record<string, string> = {}): Promise<TestJarvis> {
  const j = await startTestJarvis(env);
  servers.push(j);
  return j;
}
async function imageHost(address?: string): Promise<ImageHost> {
  const h = await new ImageHost().start(address);
  hosts.push(h);
  return h;
}
async function rawHost(reply: string | undefined): Promise<RawHost> {
  const h = await new RawHost(reply).start();
  hosts.push(h);
  return h;
}

const imagePart = (url: string) => ({ type: 'image_url', image_url: { url } });
const chatBody = (urls: string[]) => ({ model: MODEL, stream: false, messages: [{ role: 'user', content: [{ type: 'text', text: 'see' }, ...urls.map(imagePart)] }] });

async function ask(j: TestJarvis, urls: string[], headers: Record<string, string> = {}) {
  const res = await postJson(`${j.url}/v1/chat/completions`, chatBody(urls), headers);
  return res as { status: number; body: { error?: { code: string; message: string } }; headers: Headers };
}

/** The reasons of the image_fetch_failed lines, once there are `count` (the log is written asynchronously). */
async function failureReasons(j: TestJarvis, count: number): Promise<string[]> {
  const reasons = () => events(j.logFile, 'image_fetch_failed').map((l) => String(l.fields.reason));
  await until(() => reasons().length >= count, `${count} image_fetch_failed lines`);
  return reasons();
}

/** Polls `check` (a condition on servers this test owns) with a generous bound. */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('where Jarvis fetches images from', () => {
  it('a loopback URL (in any spelling) is refused, and what it would answer never reaches the model server', async () => {
    const j = await jarvis();
    const secret = await imageHost();
    const port = new URL(secret.url).port;
    const urls = [
      `${secret.url}/png`,
      `${j.url}/health`,
      `http://localhost:${port}/png`,
      `http://0x7f.1:${port}/png`,
      `http://2130706433:${port}/png`,
      `http://[::ffff:127.0.0.1]:${port}/png`,
      `http://[::1]:${port}/png`,
    ];
    for (const url of urls) {
      const res = await ask(j, [url]);
      expect(res.status, url).toBe(400);
      expect(res.body.error?.code, url).toBe('image_fetch_failed');
    }
    expect(secret.requests).toEqual([]);
    expect(j.fake!.requests).toHaveLength(0);
    const reasons = await failureReasons(j, urls.length);
    expect(reasons).toHaveLength(urls.length);
    for (const reason of reasons) expect(reason).toMatch(/not an address Jarvis may fetch from/);
  });

  it('every redirect is checked again: a hop to loopback is refused; at most 3 are followed', async () => {
    // The "public" host is 127.0.0.2, allowed by address; the secret is on 127.0.0.1, which is not.
    const j = await jarvis({ JARVIS_IMAGE_FETCH_ALLOW: '127.0.0.2' });
    const secret = await imageHost('127.0.0.1');
    const site = await imageHost('127.0.0.2');
    site.routes.set('/to-secret', (_req, res) => res.writeHead(302, { location: `${secret.url}/png` }).end());
    site.routes.set('/to-png', (_req, res) => res.writeHead(301, { location: '/png' }).end());
    site.routes.set('/loop', (_req, res) => res.writeHead(307, { location: '/loop' }).end());

    const refused = await ask(j, [`${site.url}/to-secret`]);
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('image_fetch_failed');
    expect(secret.requests).toEqual([]);

    const looped = await ask(j, [`${site.url}/loop`]);
    expect(looped.status).toBe(400);
    expect(site.requests.filter((p) => p === '/loop')).toHaveLength(4);

    const followed = await ask(j, [`${site.url}/to-png`]);
    expect(followed.status).toBe(200);
    const sent = j.fake!.requests[0]!.body as { messages: Array<{ images?: string[] }> };
    expect(sent.messages[0]!.images).toEqual([PNG.toString('base64')]);
    expect(j.fake!.requests).toHaveLength(1);
  });

  it('only images: a body not served as image/*, or not shaped like an image, is refused', async () => {
    const j = await jarvis({ JARVIS_IMAGE_FETCH_ALLOW: '127.0.0.1' });
    const site = await imageHost();
    site.routes.set('/json', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"secret":"s3cr3t"}'));
    site.routes.set('/labelled', (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end('{"secret":"s3cr3t"}'));
    for (const path of ['/json', '/labelled']) {
      const res = await ask(j, [`${site.url}${path}`]);
      expect(res.status, path).toBe(400);
      expect(res.body.error?.code).toBe('image_fetch_failed');
    }
    expect(j.fake!.requests).toHaveLength(0);
  });

  it('one text for every failure: a closed port, a non-HTTP service, an HTTP 401 and a private address look the same', async () => {
    const j = await jarvis({ JARVIS_IMAGE_FETCH_ALLOW: '127.0.0.1' });
    const site = await imageHost();
    site.routes.set('/login', (_req, res) => res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic' }).end('who are you?'));
    const ssh = await rawHost('SSH-2.0-OpenSSH_9.6\r\n');
    const urls = [`http://127.0.0.1:${await freePort()}/x.png`, `${ssh.url}/x.png`, `${site.url}/login`, 'http://10.0.0.1/x.png'];
    const texts = new Set<string>();
    for (const url of urls) {
      const res = await ask(j, [url]);
      expect(res.status, url).toBe(400);
      expect(res.body.error?.code, url).toBe('image_fetch_failed');
      expect(res.body.error?.message, url).toContain(url);
      texts.add(res.body.error!.message.replace(url, '<url>'));
    }
    expect([...texts]).toEqual(['the image at <url> could not be fetched (Jarvis fetches only public http(s) images, of up to 20 MiB, that arrive within 10 s; send it as a data: URL instead)']);
    // The operator still sees each real cause, one line per failure.
    const reasons = await failureReasons(j, 4);
    expect(reasons).toHaveLength(4);
    expect(reasons[0]).toMatch(/ECONNREFUSED/);
    expect(reasons[2]).toMatch(/HTTP 401/);
    expect(reasons[3]).toMatch(/not an address Jarvis may fetch from/);
  });
});

describe('bounds on images', () => {
  it('too many images, or too many bytes of them, are refused before anything is fetched', async () => {
    const j = await jarvis({ JARVIS_IMAGE_FETCH_ALLOW: '127.0.0.1', JARVIS_BODY_LIMIT_BYTES: String(2 << 20), JARVIS_IMAGE_MAX_BYTES: '100', JARVIS_IMAGE_MAX_REQUEST_BYTES: '150' });
    const site = await imageHost();

    const seventeen = await ask(j, Array.from({ length: 17 }, (_, i) => `${site.url}/png?${i}`));
    expect(seventeen.status).toBe(400);
    expect(seventeen.body.error?.code).toBe('too_many_images');
    expect(seventeen.body.error?.message).toMatch(/17 images.*at most 16.*JARVIS_IMAGES_PER_REQUEST/);

    // The request that once made 10,989 GETs: 11 messages of 999 image parts.
    const flood = {
      model: MODEL,
      stream: false,
      messages: Array.from({ length: 11 }, (_, m) => ({ role: 'user', content: Array.from({ length: 999 }, (_, i) => imagePart(`${site.url}/png?${m}-${i}`)) })),
    };
    const flooded = await postJson(`${j.url}/v1/chat/completions`, flood);
    expect(flooded.status).toBe(400);
    expect(flooded.body.error.code).toBe('too_many_images');

    const data = (bytes: number) => `data:image/png;base64,${Buffer.concat([PNG, Buffer.alloc(bytes - PNG.length)]).toString('base64')}`;
    const oneTooBig = await ask(j, [data(101), `${site.url}/png`]);
    expect(oneTooBig.status).toBe(413);
    expect(oneTooBig.body.error?.message).toMatch(/JARVIS_IMAGE_MAX_BYTES/);
    const together = await ask(j, [data(80), data(80), `${site.url}/png`]);
    expect(together.status).toBe(413);
    expect(together.body.error?.message).toMatch(/JARVIS_IMAGE_MAX_REQUEST_BYTES/);

    // Ollama's own `images` count the same.
    const ollama = await postJson(`${j.url}/api/chat`, { model: MODEL, stream: false, messages: [{ role: 'user', content: 'see', images: Array.from({ length: 17 }, () => PNG.toString('base64')) }] });
    expect(ollama.status).toBe(400);
    expect(ollama.body.error).toMatch(/JARVIS_IMAGES_PER_REQUEST/);

    expect(site.requests).toEqual([]);
    expect(j.fake!.requests).toHaveLength(0);

    // Fetched bytes count towards the request's total too: the second image does not fit what is left.
    const big = Buffer.concat([PNG, Buffer.alloc(100 - PNG.length)]);
    site.routes.set('/big', (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(big));
    const fetchedTooMuch = await ask(j, [`${site.url}/big`, `${site.url}/big?again`]);
    expect(fetchedTooMuch.status).toBe(400);
    expect(fetchedTooMuch.body.error?.code).toBe('image_fetch_failed');
    expect(j.fake!.requests).toHaveLength(0);
  });

  it('fetches in flight are bounded per key (a key at its bound does not block another) and in all', async () => {
    const j = await jarvis({ ...KEYS, JARVIS_IMAGE_FETCH_ALLOW: '127.0.0.1', JARVIS_IMAGE_FETCHES_PER_CLIENT: '2', JARVIS_IMAGE_FETCHES_MAX: '3' });
    const site = await imageHost();
    const held: Array<() => void> = [];
    site.routes.set('/slow', (_req, res) => held.push(() => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG)));
    const slow = () => ask(j, [`${site.url}/slow`], as(ALICE));

    const first = [slow(), slow()];
    await until(() => held.length === 2, 'two held fetches of alice');
    const third = await slow();
    expect(third.status).toBe(429);
    expect(third.body.error?.code).toBe('too_many_image_fetches');
    expect(third.body.error?.message).toMatch(/JARVIS_IMAGE_FETCHES_PER_CLIENT/);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(site.requests.filter((p) => p === '/slow')).toHaveLength(2);

    // Bob is not alice: his fetch goes through while hers wait.
    expect((await ask(j, [`${site.url}/png`], as(BOB))).status).toBe(200);

    // Three in all: with alice's two and one of bob's held, bob's next is refused too.
    const bobHeld = ask(j, [`${site.url}/slow`], as(BOB));
    await until(() => held.length === 3, "bob's held fetch");
    const overall = await ask(j, [`${site.url}/png`], as(BOB));
    expect(overall.status).toBe(429);
    expect(overall.body.error?.message).toMatch(/JARVIS_IMAGE_FETCHES_MAX/);

    for (const release of held) release();
    for (const res of await Promise.all([...first, bobHeld])) expect(res.status).toBe(200);
    // Slots are given back: alice may fetch again.
    expect((await ask(j, [`${site.url}/png`], as(ALICE))).status).toBe(200);
  });

  it('a slot is held until the answer ends (its fetched bytes live that long), then given back', async () => {
    const j = await jarvis({ ...KEYS, JARVIS_IMAGE_FETCH_ALLOW: '127.0.0.1', JARVIS_IMAGE_FETCHES_PER_CLIENT: '1' });
    const site = await imageHost();
    j.fake!.plan = (prompt) => ({ tokens: Array.from({ length: 50 }, (_, i) => `${prompt}#${i} `), tokenMs: 20 });
    const streaming = await fetch(`${j.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...as(ALICE) },
      body: JSON.stringify({ ...chatBody([`${site.url}/png`]), stream: true }),
    });
    expect(streaming.status).toBe(200);
    const reader = streaming.body!.getReader();
    await reader.read();
    const meanwhile = await ask(j, [`${site.url}/png`], as(ALICE));
    expect(meanwhile.status).toBe(429);
    expect(meanwhile.body.error?.code).toBe('too_many_image_fetches');
    // Data URLs need no slot.
    expect((await ask(j, [`data:image/png;base64,${PNG.toString('base64')}`], as(ALICE))).status).toBe(200);
    while (!(await reader.read()).done);
    expect((await ask(j, [`${site.url}/png`], as(ALICE))).status).toBe(200);
  });

  it('the fetch timeout holds: a host that never answers, or never finishes its body, is cut at JARVIS_IMAGE_FETCH_TIMEOUT_MS', async () => {
    const j = await jarvis({ JARVIS_IMAGE_FETCH_ALLOW: '127.0.0.1', JARVIS_IMAGE_FETCH_TIMEOUT_MS: '300' });
    const silent = await rawHost(undefined);
    const site = await imageHost();
    site.routes.set('/trickle', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG.subarray(0, 8));
    });
    for (const url of [`${silent.url}/x.png`, `${site.url}/trickle`]) {
      const started = performance.now();
      const res = await ask(j, [url]);
      // 300 ms configured; the bound is generous for a loaded machine, far below the old fixed 10 s.
      expect(performance.now() - started, url).toBeLessThan(5000);
      expect(res.status).toBe(400);
      expect(res.body.error?.message).toContain('within 0.3 s');
    }
    const reasons = await failureReasons(j, 2);
    expect(reasons).toEqual(['no complete answer within 300 ms', 'no complete answer within 300 ms']);
  });
});

describe('JARVIS_IMAGE_FETCH', () => {
  it('off: data: URLs only; an http(s) URL is a clear 400, whatever the backend', async () => {
    const site = await imageHost();
    for (const backend of ['ollama', 'openai']) {
      const j = await jarvis({ JARVIS_BACKEND: backend, JARVIS_IMAGE_FETCH: 'off', JARVIS_IMAGE_FETCH_ALLOW: '127.0.0.1' });
      const res = await ask(j, [`${site.url}/png`]);
      expect(res.status, backend).toBe(400);
      expect(res.body.error?.code).toBe('image_urls_disabled');
      expect(res.body.error?.message).toMatch(/only as data: URLs/);
      expect((await ask(j, [`data:image/png;base64,${PNG.toString('base64')}`])).status, backend).toBe(200);
    }
    expect(site.requests).toEqual([]);
  });

  it('allowlist: only the listed names and ranges; a listed name may resolve to loopback', async () => {
    const j = await jarvis({ JARVIS_IMAGE_FETCH: 'allowlist', JARVIS_IMAGE_FETCH_ALLOW: 'localhost' });
    const site = await imageHost();
    const port = new URL(site.url).port;
    expect((await ask(j, [`http://localhost:${port}/png`])).status).toBe(200);
    const byAddress = await ask(j, [`${site.url}/png`]);
    expect(byAddress.status).toBe(400);
    expect(byAddress.body.error?.message).toMatch(/only from the hosts its operator allows/);
    expect(site.requests).toEqual(['/png']);
  });
});
