// Measures what image URLs in chat requests make Jarvis do (docs/security.md "Images in requests"):
//   A. one ~1 MB request of 11 messages x 999 image parts: how many GETs reach the image host;
//   B. four requests at once, each naming ten 19 MB images: Jarvis's peak RSS and /health latency.
// Run once against a Jarvis: `npx tsx scripts/measureImages.ts`. The image host is on loopback, so
// JARVIS_IMAGE_FETCH_ALLOW lets it through (a Jarvis without that variable ignores it).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { FakeOllama } from '../test/helpers/fakes/fakeOllama.js';
import { spawnJarvis } from '../test/helpers/jarvisProcess.js';

const KEY = 'measure-key-0123456789abcdef';
const BIG = 19 * 1024 * 1024;
const PNG_HEAD = Buffer.from('89504e470d0a1a0a', 'hex');

let gets = 0;
const imageHost = http.createServer((req, res) => {
  gets++;
  const big = req.url?.startsWith('/big/');
  const body = big ? Buffer.concat([PNG_HEAD, Buffer.alloc(BIG - PNG_HEAD.length)]) : PNG_HEAD;
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
  res.end(body);
});
await new Promise<void>((resolve) => imageHost.listen(0, '127.0.0.1', resolve));
const host = `http://127.0.0.1:${(imageHost.address() as AddressInfo).port}`;

const fake = await new FakeOllama().start();
const jarvis = await spawnJarvis({
  JARVIS_BACKEND: 'ollama',
  OLLAMA_HOST: fake.url,
  JARVIS_API_KEYS: `m:${KEY}`,
  JARVIS_IMAGE_FETCH_ALLOW: '127.0.0.1',
  JARVIS_BODY_LIMIT_BYTES: String(2 << 20),
});
const pid = jarvis.proc.pid!;
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function chat(content: unknown[][]): Promise<{ status: number; text: string }> {
  const res = await fetch(`${jarvis.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: 'fake-llama:latest', stream: false, messages: content.map((c) => ({ role: 'user', content: c })) }),
  });
  return { status: res.status, text: (await res.text()).slice(0, 200) };
}

// A.
const parts = (m: number) => Array.from({ length: 999 }, (_, i) => ({ type: 'image_url', image_url: { url: `${host}/p/${m}/${i}` } }));
const bodyA = Array.from({ length: 11 }, (_, m) => parts(m));
console.log(`A: request body ${JSON.stringify(bodyA).length} bytes`);
let started = performance.now();
const a = await chat(bodyA);
console.log(`A: HTTP ${a.status} in ${Math.round(performance.now() - started)} ms, ${gets} GETs at the image host; ${a.text}`);

// B.
gets = 0;
let peak = rssMb();
let worstHealth = 0;
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    peak = Math.max(peak, rssMb());
    const t = performance.now();
    await fetch(`${jarvis.url}/health`).then((r) => r.text());
    worstHealth = Math.max(worstHealth, performance.now() - t);
    await new Promise((r) => setTimeout(r, 100));
  }
})();
started = performance.now();
const results = await Promise.all(
  Array.from({ length: 4 }, (_, r) => chat([Array.from({ length: 10 }, (_, i) => ({ type: 'image_url', image_url: { url: `${host}/big/${r}/${i}` } }))])),
);
sampling = false;
await sampler;
console.log(`B: ${results.map((r) => r.status).join(',')} in ${Math.round(performance.now() - started)} ms, ${gets} GETs; peak RSS ${Math.round(peak)} MB, worst /health ${Math.round(worstHealth)} ms`);
console.log(`B: first answer: ${results[0]!.text}`);

jarvis.proc.kill('SIGTERM');
await jarvis.exited;
await fake.stop();
imageHost.close();
