import { describe, expect, it } from 'vitest';
import { normalizeOllamaHost } from '../../src/backends/ollama/kind.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { LineSplitter, LineTooLongError } from '../../src/shared/ndjson.js';

describe('configuration (docs/configuration.md)', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      backend: 'auto',
      backends: { ollama: { host: 'http://127.0.0.1:11434' }, openai: { baseUrl: 'http://127.0.0.1:8080/v1' }, demo: { tokenMs: 30 } },
      logFile: 'logs/system.log',
      cancelTimeoutMs: 2000,
      bodyLimitBytes: 1 << 20,
    });
  });

  it('takes --port and --host over PORT and HOST', () => {
    expect(loadConfig({ PORT: '9000', HOST: '0.0.0.0' }, ['--port', '9100', '--host', '::1'])).toMatchObject({ port: 9100, host: '::1' });
  });

  it('rejects bad values with a message naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ JARVIS_BACKEND: 'gpt' })).toThrow(/JARVIS_BACKEND must be one of auto, ollama, openai, (.+, )?demo/);
    expect(() => loadConfig({ JARVIS_CANCEL_TIMEOUT_MS: '-1' })).toThrow(/JARVIS_CANCEL_TIMEOUT_MS/);
    expect(() => loadConfig({}, ['--nope'])).toThrow();
  });

  it('reads the per-key bounds on retained answers and storage', () => {
    expect(loadConfig({})).toMatchObject({ streamLogMaxChars: 256 * 1024 * 1024, streamLogKeyShareChars: 0, storageQuotaBytes: 1024 * 1024 * 1024 });
    expect(loadConfig({ JARVIS_STREAM_LOG_MAX_CHARS: '65536', JARVIS_STREAM_LOG_KEY_SHARE_CHARS: '4096', JARVIS_STORAGE_QUOTA_BYTES: '0' })).toMatchObject({
      streamLogMaxChars: 65536,
      streamLogKeyShareChars: 4096,
      storageQuotaBytes: 0,
    });
    expect(() => loadConfig({ JARVIS_STREAM_LOG_MAX_CHARS: '100' })).toThrow(/JARVIS_STREAM_LOG_MAX_CHARS must be an integer >= 1024/);
    expect(() => loadConfig({ JARVIS_STORAGE_QUOTA_BYTES: '1GB' })).toThrow(/JARVIS_STORAGE_QUOTA_BYTES/);
  });

  it('reads the search bounds (docs/security.md "Searches and the store")', () => {
    expect(loadConfig({})).toMatchObject({ searchTimeoutMs: 10_000, maxSearchesPerClient: 2 });
    expect(loadConfig({ JARVIS_SEARCH_TIMEOUT_MS: '2500', JARVIS_MAX_SEARCHES_PER_CLIENT: '8' })).toMatchObject({ searchTimeoutMs: 2500, maxSearchesPerClient: 8 });
    expect(() => loadConfig({ JARVIS_SEARCH_TIMEOUT_MS: '50' })).toThrow(/JARVIS_SEARCH_TIMEOUT_MS must be an integer >= 100/);
    expect(() => loadConfig({ JARVIS_MAX_SEARCHES_PER_CLIENT: '0' })).toThrow(/JARVIS_MAX_SEARCHES_PER_CLIENT must be an integer >= 1/);
    expect(() => loadConfig({ JARVIS_MAX_SEARCHES_PER_CLIENT: 'many' })).toThrow(/JARVIS_MAX_SEARCHES_PER_CLIENT/);
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
