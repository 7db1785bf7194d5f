import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { kindNamed } from '../backends/registry.js';
import type { SystemLog } from '../log/systemLog.js';
import type { TracingConfig } from './config.js';
import type { Tracing } from './types.js';

/** What the tracing needs of the server besides its configuration. */
export interface TracingDeps {
  log: SystemLog;
  /** JARVIS_INSTANCE_ID in a cluster (`jarvis.instance`, `service.instance.id`); undefined for one process. */
  instance: string | undefined;
  /** The cluster's Redis: where a stream's span context is kept for the other instances (links). */
  redis: Redis | undefined;
  /** How long a stream's span context is kept for links (the event log's retention). */
  retentionMs: number;
  /** The model server behind an upstream name (or the one backend): `server.address`, `server.port`. */
  upstreamUrl(upstream: string | undefined, backend: string): string | undefined;
}

/**
 * Loads the OpenTelemetry SDK (a dynamic import: with tracing off, no `@opentelemetry`
 * module is ever loaded) and starts the exporter.
 */
export async function openTracing(config: TracingConfig, deps: TracingDeps): Promise<Tracing> {
  const { OtelTracing } = await import('./otelTracing.js');
  return OtelTracing.open(config, deps);
}

/** The model server's URL for `server.address`: the JARVIS_UPSTREAMS entry named `upstream`, else the one backend's. */
export function upstreamUrlOf(config: Pick<Config, 'upstreams' | 'backends'>): TracingDeps['upstreamUrl'] {
  return (upstream, backend) => {
    const server = upstream === undefined ? undefined : config.upstreams?.servers.find((s) => s.spec.name === upstream);
    const kind = kindNamed(server?.spec.kind ?? backend);
    if (!kind) return undefined;
    const settings = server ? server.settings : (config.backends as Record<string, unknown>)[kind.name];
    return (kind as { upstream(settings: unknown): string | undefined }).upstream(settings);
  };
}
