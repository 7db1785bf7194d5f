import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface RedisProxy {
  /** A REDIS_URL that goes through the proxy. */
  url: string;
  /** Holds back everything Redis sends to subscriber connections (pub/sub messages) until `resumeSubscribers`. */
  pauseSubscribers(): void;
  resumeSubscribers(): void;
  /** What was held back since the last pause, as text (RESP). */
  held(): string;
  /** Connections through the proxy that have subscribed. */
  subscribers(): number;
  stop(): Promise<void>;
}

/**
 * A TCP proxy in front of a real redis-server that can pause what Redis sends to the
 * subscriber connections passing through it, as a stalled network path or a stalled
 * subscriber would: the pub/sub messages of that time do not arrive, while the
 * instance's command connection goes on. A connection is a subscriber once it has
 * sent SUBSCRIBE.
 */
export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  const links = new Set<{ client: Socket; upstream: Socket; subscriber: boolean; held: Buffer[] }>();
  let paused = false;
  let heldText = '';
  const server = createServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    const link = { client, upstream, subscriber: false, held: [] as Buffer[] };
    links.add(link);
    client.on('data', (d: Buffer) => {
      if (!link.subscriber && /SUBSCRIBE/i.test(d.toString('latin1'))) link.subscriber = true;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (link.subscriber && paused) {
        link.held.push(d);
        heldText += d.toString('latin1');
      } else client.write(d);
    });
    const close = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    pauseSubscribers() {
      paused = true;
      heldText = '';
    },
    resumeSubscribers() {
      paused = false;
      for (const link of links) for (const d of link.held.splice(0)) link.client.write(d);
    },
    held: () => heldText,
    subscribers: () => [...links].filter((l) => l.subscriber).length,
    async stop() {
      for (const link of links) {
        link.client.destroy();
        link.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
