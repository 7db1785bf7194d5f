import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

// JARVIS_DEFAULT_LIMITS (docs/configuration.md): read and checked at start, a clear error otherwise.

describe('JARVIS_DEFAULT_LIMITS', () => {
  it('reads the JSON object of limits; unset, empty or {} is none', () => {
    expect(loadConfig({ JARVIS_DEFAULT_LIMITS: '{"rpm":60,"tokens_per_day":200000}' }).defaultLimits).toEqual({ rpm: 60, tokens_per_day: 200000 });
    expect(loadConfig({ JARVIS_DEFAULT_LIMITS: '{"max_streams":2,"tpm":null}' }).defaultLimits).toEqual({ max_streams: 2 });
    for (const none of [undefined, '', '{}']) expect(loadConfig({ JARVIS_DEFAULT_LIMITS: none }).defaultLimits).toBeUndefined();
  });

  it.each([
    ['rpm=60', 'JARVIS_DEFAULT_LIMITS must be JSON like {"rpm":60,"tokens_per_day":200000}, got "rpm=60"'],
    ['[60]', 'JARVIS_DEFAULT_LIMITS: must be a JSON object like {"rpm":60,"tokens_per_day":200000}'],
    ['{"rps":1}', 'JARVIS_DEFAULT_LIMITS: "rps" is not a limit (the limits are rpm, tpm, max_streams, tokens_per_day)'],
    ['{"rpm":0}', 'JARVIS_DEFAULT_LIMITS: rpm must be a whole number from 1 to 1000000000000, got 0'],
    ['{"tpm":1.5}', 'JARVIS_DEFAULT_LIMITS: tpm must be a whole number from 1 to 1000000000000, got 1.5'],
    ['{"max_streams":"2"}', 'JARVIS_DEFAULT_LIMITS: max_streams must be a whole number from 1 to 1000000000000, got "2"'],
  ])('refuses %s with a ConfigError that says why', (raw, message) => {
    expect(() => loadConfig({ JARVIS_DEFAULT_LIMITS: raw })).toThrow(ConfigError);
    expect(() => loadConfig({ JARVIS_DEFAULT_LIMITS: raw })).toThrow(message);
  });
});
