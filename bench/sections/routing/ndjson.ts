import http from 'node:http';
import { agent, epochNow } from '../../lib/client.js';

// One Jarvis NDJSON stream read whole, with its events: the routing section needs what
// bench/lib/client.ts does not keep (the `routed` status, the terminal event and its error).

export interface NdjsonEvent {
  type: string;
  status?: string;
  upstream?: string;
  position?: number;
  text?: string;
  code?: string;
  message?: string;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

export interface NdjsonReply {
  status: number;
  events: NdjsonEvent[];
  streamId: string | undefined;
  /** Epoch ms on the bench's clock (bench/lib/client.ts epochNow). */
  sentAt: number;
  firstTokenAt: number | undefined;
  endAt: number;
  /** The last event: `done`, `cancelled` or `error`. */
  terminal: NdjsonEvent | undefined;
  /** The server that answered, as the last `routed` status named it (a failover sends one per server tried). */
  upstream: string | undefined;
  text: string;
}

export interface NdjsonOptions {
  session?: string;
  headers?: Record<string, string>;
  onFirstToken?: () => void;
  /** Every event as it arrives. */
  onEvent?: (event: NdjsonEvent) => void;
}

/** POSTs `body` to Jarvis's `/v1/chat/completions` as NDJSON and reads the stream to its end. */
export function ndjsonChat(jarvisUrl: string, body: unknown, options: NdjsonOptions = {}): Promise<NdjsonReply> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      accept: 'application/x-ndjson',
      ...options.headers,
    };
    if (options.session) headers['x-session-id'] = options.session;
    const sentAt = epochNow();
    let firstTokenAt: number | undefined;
    const events: NdjsonEvent[] = [];
    let rest = '';
    const req = http.request(`${jarvisUrl}/v1/chat/completions`, { method: 'POST', headers, agent }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        rest += chunk;
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          if (line === '') continue;
          let event: NdjsonEvent;
          try {
            event = JSON.parse(line) as NdjsonEvent;
          } catch {
            // A non-JSON body (an HTTP error's) is kept whole below.
            event = { type: 'unparsed', message: line };
          }
          if (event.type === 'token' && firstTokenAt === undefined) {
            firstTokenAt = epochNow();
            options.onFirstToken?.();
          }
          events.push(event);
          options.onEvent?.(event);
        }
      });
      res.on('end', () => {
        if (rest.trim() !== '') events.push({ type: 'unparsed', message: rest.trim() });
        const terminal = [...events].reverse().find((e) => e.type === 'done' || e.type === 'cancelled' || e.type === 'error');
        resolve({
          status: res.statusCode ?? 0,
          events,
          streamId: res.headers['x-stream-id'] as string | undefined,
          sentAt,
          firstTokenAt,
          endAt: epochNow(),
          terminal,
          upstream: events.findLast((e) => e.type === 'status' && e.status === 'routed')?.upstream,
          text: events
            .filter((e) => e.type === 'token')
            .map((e) => e.text ?? '')
            .join(''),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
