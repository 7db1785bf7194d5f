import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as the receiver decoded it from OTLP/JSON (ids in hex, attributes flattened). */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP's numbers: 2 server, 3 client. */
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; atMs: number; attributes: Record<string, unknown> }>;
  links: Array<{ traceId: string; spanId: string; attributes: Record<string, unknown> }>;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  status: { code?: number; message?: string };
  resource: Record<string, unknown>;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: AnyValue[] } };

function valueOf(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function flat(attributes: Array<{ key: string; value: AnyValue }> | undefined): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map((a) => [a.key, valueOf(a.value)]));
}

const ms = (nanos: string | number | undefined) => Number(BigInt(nanos ?? 0) / 1_000_000n);

/**
 * An OpenTelemetry collector's OTLP/HTTP traces endpoint, as far as tests need one: a plain
 * node:http server accepting `POST /v1/traces` in OTLP/JSON (protobuf bodies are counted,
 * not decoded), keeping every span it received.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests received, by content type. */
  readonly posts: string[] = [];
  /** The bodies of the protobuf requests, undecoded (a span's strings are in them as UTF-8). */
  readonly protobufBodies: Buffer[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const type = String(req.headers['content-type'] ?? '');
        this.posts.push(type);
        if (req.method === 'POST' && req.url === '/v1/traces' && type.includes('json')) this.take(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        else if (req.method === 'POST' && req.url === '/v1/traces') this.protobufBodies.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': type.includes('json') ? 'application/json' : 'application/x-protobuf' });
        res.end(type.includes('json') ? '{}' : '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The first span matching `predicate`, once it has arrived. */
  async waitFor(predicate: (span: ReceivedSpan) => boolean, timeoutMs = 15_000): Promise<ReceivedSpan> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.spans.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such span within ${timeoutMs} ms; received: ${this.spans.map((s) => s.name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The span of stream `streamId` (attribute `jarvis.stream.id`, the stream's own span, not a reader's). */
  streamSpan(streamId: string, timeoutMs?: number): Promise<ReceivedSpan> {
    return this.waitFor((s) => s.kind === 3 && s.attributes['jarvis.stream.id'] === streamId, timeoutMs);
  }

  private take(body: any): void {
    for (const rs of body.resourceSpans ?? []) {
      const resource = flat(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            kind: s.kind,
            startMs: ms(s.startTimeUnixNano),
            endMs: ms(s.endTimeUnixNano),
            attributes: flat(s.attributes),
            events: (s.events ?? []).map((e: any) => ({ name: e.name, atMs: ms(e.timeUnixNano), attributes: flat(e.attributes) })),
            links: (s.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId, attributes: flat(l.attributes) })),
            status: s.status ?? {},
            resource,
          });
        }
      }
    }
  }
}
