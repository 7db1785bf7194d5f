import { request } from 'node:http';

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
