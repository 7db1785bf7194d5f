import { describe, expect, it } from 'vitest';
import { fileNameFor, importBody, ImportError, parseImport, toExportFile, toMarkdown, type ExportedConversation } from './transfer.js';

const conversation: ExportedConversation = {
  id: 'conv_1',
  title: 'Trip to Lisbon: what to see?',
  system: 'Answer briefly.',
  model: 'llama3.2:latest',
  temperature: 0.3,
  max_tokens: 400,
  created_at: '2026-01-02T10:00:00.000Z',
  updated_at: '2026-01-02T10:05:00.000Z',
  messages: [
    { role: 'user', content: 'Three things to see?', created_at: '2026-01-02T10:00:00.000Z' },
    {
      role: 'assistant',
      content: '1. Belém\n2. Alfama\n3. LX Factory',
      state: 'done',
      reasoning: 'The user wants sights.',
      model: 'llama3.2:latest',
      usage: { prompt_tokens: 12, completion_tokens: 9 },
      timings: { ttft_ms: 120, duration_ms: 900 },
      created_at: '2026-01-02T10:00:01.000Z',
    },
    { role: 'user', content: 'And food?' },
    { role: 'assistant', content: 'Past', state: 'streaming' },
  ],
};

describe('export and import', () => {
  it('JSON round trip: what is exported is what an import sends back', () => {
    const file = JSON.parse(JSON.stringify(toExportFile([conversation], new Date('2026-02-01T00:00:00Z'))));
    expect(file).toMatchObject({ format: 'jarvis.conversations', version: 1, exported_at: '2026-02-01T00:00:00.000Z' });
    const [back] = parseImport(JSON.stringify(file));
    const body = importBody(back!);
    expect(body).toEqual({
      title: conversation.title,
      system: 'Answer briefly.',
      model: 'llama3.2:latest',
      temperature: 0.3,
      max_tokens: 400,
      created_at: conversation.created_at,
      updated_at: conversation.updated_at,
      messages: [
        { role: 'user', content: 'Three things to see?', created_at: '2026-01-02T10:00:00.000Z' },
        { role: 'assistant', content: '1. Belém\n2. Alfama\n3. LX Factory', created_at: '2026-01-02T10:00:01.000Z', state: 'done', reasoning: 'The user wants sights.', model: 'llama3.2:latest' },
        { role: 'user', content: 'And food?' },
        // exported mid-answer: it comes back as stopped, never as streaming
        { role: 'assistant', content: 'Past', state: 'stopped' },
      ],
    });
  });

  it('Markdown: title, settings, system prompt, each message under who said it', () => {
    const md = toMarkdown(conversation);
    expect(md.startsWith('# Trip to Lisbon: what to see?\n')).toBe(true);
    expect(md).toContain('- Model: llama3.2:latest');
    expect(md).toContain('## System prompt\n\nAnswer briefly.');
    expect(md).toContain('## You\n\nThree things to see?');
    expect(md).toContain('## Jarvis (llama3.2:latest)\n\n<details><summary>Thinking</summary>');
    expect(md).toContain('## Jarvis (streaming)\n\nPast');
  });

  it('refuses what it cannot read, in words', () => {
    expect(() => parseImport('not json')).toThrow(ImportError);
    expect(() => parseImport('{"format":"other","conversations":[]}')).toThrow(/Unknown format/);
    expect(() => parseImport('{"format":"jarvis.conversations","version":9,"conversations":[{"messages":[]}]}')).toThrow(/newer Jarvis/);
    expect(() => parseImport('{"conversations":[]}')).toThrow(/no conversations/);
    expect(() => parseImport('{"conversations":[{"messages":[{"role":"system","content":"x"}]}]}')).toThrow(/message 1/);
    expect(() => parseImport('{"conversations":[{"title":"x"}]}')).toThrow(/no messages/);
  });

  it('file names from titles', () => {
    expect(fileNameFor('Trip to Lisbon: what to see?', 'md')).toBe('Trip-to-Lisbon-what-to-see.md');
    expect(fileNameFor('<>/', 'json')).toBe('conversation.json');
  });
});
