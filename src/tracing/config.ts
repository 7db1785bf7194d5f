import { ConfigError, int, list, oneOf, type Env } from '../env.js';

/**
 * OpenTelemetry traces, read from the standard variables of the OpenTelemetry
 * specification (docs/observability.md "Traces (OpenTelemetry)"). Reading them
 * imports nothing: the SDK is loaded only when this returns a configuration.
 */
export interface TracingConfig {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  url: string;
  /** OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (else OTEL_EXPORTER_OTLP_PROTOCOL): `http/protobuf` (the default) or `http/json`. */
  protocol: 'http/protobuf' | 'http/json';
  /** OTEL_EXPORTER_OTLP_TRACES_HEADERS and OTEL_EXPORTER_OTLP_HEADERS (`k=v,k2=v2`, values URL-encoded). */
  headers: Record<string, string>;
  /** OTEL_EXPORTER_OTLP_TRACES_TIMEOUT (else OTEL_EXPORTER_OTLP_TIMEOUT): one export's bound, ms. */
  timeoutMs: number;
  /** OTEL_SERVICE_NAME (else `service.name` of OTEL_RESOURCE_ATTRIBUTES, else `jarvis`). */
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES: `k=v,…` added to every span's resource. */
  resource: Record<string, string>;
  /** OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. */
  sampler: SamplerName;
  samplerRatio: number;
  /** OTEL_BSP_*: the export queue (spans past maxQueueSize are dropped, and counted). */
  queue: { maxQueueSize: number; maxExportBatchSize: number; scheduledDelayMs: number; exportTimeoutMs: number };
}

export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** Off (undefined) unless an OTLP endpoint is named or OTEL_TRACES_EXPORTER says `otlp`; OTEL_SDK_DISABLED=true turns it off. */
export function loadTracing(env: Env): TracingConfig | undefined {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined;
  const exporters = list(env, 'OTEL_TRACES_EXPORTER').map((s) => s.toLowerCase());
  if (exporters.includes('none')) return undefined;
  const signal = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!signal && !base && !exporters.includes('otlp')) return undefined;
  const url = signal || `${(base || 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`;
  if (!/^https?:\/\//.test(url)) throw new ConfigError(`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL, got ${JSON.stringify(url)}`);
  const protocolName = 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL';
  const protocol = (env[protocolName] || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new ConfigError(`${protocolName} must be http/protobuf or http/json (Jarvis exports over HTTP; gRPC is not supported), got ${JSON.stringify(protocol)}`);
  }
  const resource = pairs(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const sampler = oneOf(env, 'OTEL_TRACES_SAMPLER', SAMPLERS, 'parentbased_always_on');
  const ratio = sampler.endsWith('traceidratio') ? Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1') : 1;
  if (!(ratio >= 0 && ratio <= 1)) throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got ${JSON.stringify(env.OTEL_TRACES_SAMPLER_ARG)}`);
  const timeoutOf = env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT' : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const maxQueueSize = int(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1);
  return {
    url,
    protocol,
    headers: { ...pairs(env, 'OTEL_EXPORTER_OTLP_HEADERS'), ...pairs(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') },
    timeoutMs: int(env, timeoutOf, 10_000, 1),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || resource['service.name'] || 'jarvis',
    resource,
    sampler,
    samplerRatio: ratio,
    queue: {
      maxQueueSize,
      maxExportBatchSize: Math.min(maxQueueSize, int(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1)),
      scheduledDelayMs: int(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, 0),
      exportTimeoutMs: int(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000, 1),
    },
  };
}

/** The specification's `key=value,key2=value2` lists, values URL-encoded. */
function pairs(env: Env, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of (env[name] ?? '').split(',')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      if (entry.trim() !== '') throw new ConfigError(`${name} must be key=value pairs separated by commas, got ${JSON.stringify(entry.trim().slice(0, 40))}`);
      continue;
    }
    try {
      out[entry.slice(0, eq).trim()] = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`${name}: the value of ${entry.slice(0, eq).trim()} is not URL-encoded correctly`);
    }
  }
  return out;
}
