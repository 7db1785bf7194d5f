// The floor: the least any Node proxy adds. It forwards each request to the
// upstream its `x-upstream` header names and pipes the reply back, byte for byte:
// no parsing, no validation, no log, no stream bookkeeping. What it adds to a
// figure is what the second process on the path costs on this machine (two more
// loopback hops and wake-ups, one more copy of every byte); what Jarvis adds on top
// of it is Jarvis's own work. Started by bench/lib/setup.ts (startBareProxy).
import http from 'node:http';
import { URL } from 'node:url';

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' });

const server = http.createServer((req, res) => {
  const upstream = new URL(req.url ?? '/', String(req.headers['x-upstream']));
  const headers = { ...req.headers, host: upstream.host };
  delete headers['x-upstream'];
  const out = http.request(upstream, { method: req.method, headers, agent }, (reply) => {
    res.writeHead(reply.statusCode ?? 502, reply.headers);
    reply.pipe(res);
  });
  out.on('error', () => res.destroy());
  // The client gone (a disconnect) closes the upstream request, as a proxy should.
  res.on('close', () => {
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` }));
});
