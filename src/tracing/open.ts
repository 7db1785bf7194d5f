import type { Config } from '../config.js';
import { kindNamed } from '../backends/registry.js';
import type { TracingConfig } from './config.js';
import type { Tracing, TracingDeps } from './types.js';

export type { TracingDeps } from './types.js';

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
