// Loaded with `node --import ./bench/peers/portkeyPreload.mjs node_modules/@portkey-ai/gateway/build/start-server.js`.
// Two things Portkey's open-source gateway needs to run as the benchmark's peer; nothing
// here touches how it handles a request.
//
// 1. On Node 20, every request through the gateway fails with `TypeError: immutable`.
//    Portkey is written for Cloudflare Workers, where a `fetch()` response's headers can
//    be changed; it appends its own headers to the upstream's response. Node's fetch
//    (undici) follows the Fetch standard instead: a fetched response's headers are
//    immutable. Re-wrapping each response in `new Response(body, init)` gives it a
//    mutable copy of the headers and hands over the same body stream (no copy, no
//    buffering: the bytes still flow straight from the upstream's socket).
//
// 2. The gateway listens on a fixed port (`--port=8787` by default) on every interface
//    and prints a banner after a one-second spinner. The benchmark wants an OS-chosen
//    port on loopback and its address as one JSON line, like its other processes: the
//    first HTTP server's `listen` is redirected to 127.0.0.1:0 and the address printed.

import http from 'node:http';

const nativeFetch = globalThis.fetch;
globalThis.fetch = async function fetchWithMutableHeaders(input, init) {
  const res = await nativeFetch(input, init);
  // A 101/204/304 has no body and `new Response` refuses a null-body status with one.
  if (res.status === 101 || res.status === 204 || res.status === 205 || res.status === 304) return res;
  return new globalThis.Response(res.body, { status: res.status, statusText: res.statusText, headers: new globalThis.Headers(res.headers) });
};

const listen = http.Server.prototype.listen;
let redirected = false;
http.Server.prototype.listen = function listenOnLoopback(...args) {
  if (redirected || process.env.PORTKEY_BENCH_LISTEN !== '1') return listen.apply(this, args);
  redirected = true;
  const callback = args.find((a) => typeof a === 'function');
  this.once('listening', () => {
    const { port } = this.address();
    // On a line of its own: the gateway draws a spinner on stdout.
    process.stdout.write(`\n${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
  });
  return listen.call(this, 0, '127.0.0.1', callback);
};
