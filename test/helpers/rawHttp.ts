import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => any;
}

export interface RawRequestOptions {
  method?: string;
  path?: string;
  /** Sent exactly as given, `Host` included (fetch would not let a test choose it). */
  headers?: Record<string, string>;
  body?: string;
  /**
   * Declare this Content-Length but send only `body` and never end it: a server
   * that answers did so without waiting to read the body.
   */
  unfinishedLength?: number;
  /** Rejects if no whole response came within this (default 10 s). */
  timeoutMs?: number;
}

/** One HTTP/1.1 request with headers a browser or an attacker would send; resolves with the whole response. */
export function rawRequest(baseUrl: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.unfinishedLength !== undefined) headers['content-length'] = String(options.unfinishedLength);
    else if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = request(
      { host: url.hostname, port: url.port, method: options.method ?? 'GET', path: options.path ?? '/', headers, agent: false, setHost: !('host' in lowerKeys(headers)) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          if (options.unfinishedLength !== undefined) req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 10_000, () => {
      req.destroy();
      reject(new Error(`no response to ${options.method ?? 'GET'} ${options.path ?? '/'} within ${options.timeoutMs ?? 10_000} ms`));
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    if (options.unfinishedLength === undefined) req.end();
  });
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** A client that asked for something long-lived and then never reads again. */
export interface StalledClient {
  socket: net.Socket;
  /** The response's status (0: closed before any answer). */
  status: number;
  /** What came in the first read (the head, and a refusal's whole body). */
  first: string;
  /** Resolves once the connection has closed. */
  closed: Promise<void>;
}

/**
 * One HTTP/1.1 GET on a raw socket of its own, which reads the first chunk of the
 * answer and then stops reading for good: a follower or reader that does not
 * read, whose unread bytes pile up in Jarvis unless Jarvis bounds them.
 */
export function stalledGet(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<StalledClient> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to GET ${path} within 30 s`));
    }, 30_000);
    socket.once('connect', () => {
      const lines = Object.entries({ host: url.host, accept: 'application/x-ndjson', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('')}\r\n`);
    });
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      const first = chunk.toString('utf8');
      resolve({ socket, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(first)?.[1] ?? 0), first, closed });
    });
    void closed.then(() => {
      clearTimeout(timer);
      resolve({ socket, status: 0, first: '', closed });
    });
  });
}

/** `count` stalled GETs, opened a batch at a time (a burst of hundreds of connects would wait on the listen backlog). */
export async function stalledGets(count: number, baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<StalledClient[]> {
  const out: StalledClient[] = [];
  for (let i = 0; i < count; i += 25) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(25, count - i) }, () => stalledGet(baseUrl, path, headers)))));
  }
  return out;
}

/** The resident memory of process `pid`, in MB (Linux). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}
