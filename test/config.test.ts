import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, normalizeOllamaHost } from '../src/config.js';
import { LineSplitter, LineTooLongError } from '../src/shared/ndjson.js';

describe('configuration (SPEC §1)', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      backend: 'auto',
      ollamaHost: 'http://127.0.0.1:11434',
      logFile: 'logs/system.log',
      cancelTimeoutMs: 2000,
      demoTokenMs: 30,
      bodyLimitBytes: 1 << 20,
    });
  });

  it('takes --port and --host over PORT and HOST', () => {
    expect(loadConfig({ PORT: '9000', HOST: '0.0.0.0' }, ['--port', '9100', '--host', '::1'])).toMatchObject({ port: 9100, host: '::1' });
  });

  it('rejects bad values with a message naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ JARVIS_BACKEND: 'gpt' })).toThrow(/JARVIS_BACKEND must be one of auto, ollama, openai, demo/);
    expect(() => loadConfig({ JARVIS_CANCEL_TIMEOUT_MS: '-1' })).toThrow(/JARVIS_CANCEL_TIMEOUT_MS/);
    expect(() => loadConfig({}, ['--nope'])).toThrow();
  });

  it('reads OLLAMA_HOST the way Ollama does', () => {
    expect(normalizeOllamaHost(undefined)).toBe('http://127.0.0.1:11434');
    expect(normalizeOllamaHost('0.0.0.0')).toBe('http://127.0.0.1:11434');
    expect(normalizeOllamaHost('gpu-box')).toBe('http://gpu-box:11434');
    expect(normalizeOllamaHost('gpu-box:11500')).toBe('http://gpu-box:11500');
    expect(normalizeOllamaHost('http://127.0.0.1:11434/')).toBe('http://127.0.0.1:11434');
    expect(normalizeOllamaHost('https://ollama.example/')).toBe('https://ollama.example');
  });
});

describe('LineSplitter', () => {
  it('joins lines and UTF-8 characters split across chunks, and skips blank lines', () => {
    const bytes = new TextEncoder().encode('{"a":"é"}\n\n{"b":"😀"}\r\n{"c":1}');
    const splitter = new LineSplitter();
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++) lines.push(...splitter.push(bytes.subarray(i, i + 1)));
    lines.push(...splitter.end());
    expect(lines).toEqual(['{"a":"é"}', '{"b":"😀"}', '{"c":1}']);
  });

  it('bounds the buffer for one unterminated line', () => {
    const splitter = new LineSplitter(16);
    expect(() => splitter.push(new TextEncoder().encode('x'.repeat(17)))).toThrow(LineTooLongError);
  });
});

describe('store fault settings', () => {
  it('has the documented defaults, and reads and checks each variable', () => {
    expect(loadConfig({})).toMatchObject({ storeRetryMs: 600_000, answerSweepMs: 60_000, storeQuickCheck: true });
    expect(loadConfig({ JARVIS_STORE_RETRY_MS: '0', JARVIS_ANSWER_SWEEP_MS: '500', JARVIS_STORE_QUICK_CHECK: '0' })).toMatchObject({
      storeRetryMs: 0,
      answerSweepMs: 500,
      storeQuickCheck: false,
    });
    expect(loadConfig({ JARVIS_STORE_QUICK_CHECK: 'false' }).storeQuickCheck).toBe(false);
    expect(loadConfig({ JARVIS_STORE_QUICK_CHECK: 'true' }).storeQuickCheck).toBe(true);
    expect(() => loadConfig({ JARVIS_STORE_RETRY_MS: '-1' })).toThrow(/JARVIS_STORE_RETRY_MS must be an integer >= 0/);
    expect(() => loadConfig({ JARVIS_ANSWER_SWEEP_MS: '10' })).toThrow(/JARVIS_ANSWER_SWEEP_MS must be an integer >= 100/);
    expect(() => loadConfig({ JARVIS_STORE_QUICK_CHECK: 'maybe' })).toThrow(/JARVIS_STORE_QUICK_CHECK must be one of 1, 0, true, false/);
  });
});
