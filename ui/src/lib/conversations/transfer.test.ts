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
  it("keeps a prompt's files through export and import, and names them in Markdown", () => {
    const image = { type: 'image' as const, name: 'dot.png', mime: 'image/png', size: 68, data_url: 'data:image/png;base64,iVBORw0KGgo=' };
    const file = { type: 'file' as const, name: 'notes.md', mime: 'text/markdown', size: 5, text: '# Hi\n' };
    const withFiles: ExportedConversation = { title: 'files', messages: [{ role: 'user', content: 'look', attachments: [image, file] }, { role: 'assistant', content: 'ok', state: 'done' }] };
    const [back] = parseImport(JSON.stringify(toExportFile([withFiles])));
    expect((importBody(back!).messages as Array<Record<string, unknown>>)[0]).toMatchObject({ role: 'user', attachments: [image, file] });
    expect(toMarkdown(withFiles)).toContain('- Attached: dot.png\n- Attached: notes.md');
    // What is not an attachment the server takes is left out, not sent to be refused.
    const odd = JSON.stringify({ format: 'jarvis.conversations', version: 2, conversations: [{ title: 't', messages: [{ role: 'user', content: 'x', attachments: [{ type: 'image', name: 'a', data_url: 'http://x' }, file] }] }] });
    expect(parseImport(odd)[0]!.messages[0]!.attachments).toEqual([file]);
  });

  it('JSON round trip: what is exported is what an import sends back', () => {
    const file = JSON.parse(JSON.stringify(toExportFile([conversation], new Date('2026-02-01T00:00:00Z'))));
    expect(file).toMatchObject({ format: 'jarvis.conversations', version: 2, exported_at: '2026-02-01T00:00:00.000Z' });
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

  // A tree: the first prompt edited once (p1 → p2), p2's answer regenerated once (a2 → a3); the current branch p2, a3.
  const tree: ExportedConversation = {
    id: 'conv_t',
    title: 'Versions',
    current_message_id: 'a3',
    messages: [
      { id: 'p1', parent_id: null, role: 'user', content: 'First try', created_at: '2026-01-02T10:00:00.000Z' },
      { id: 'a1', parent_id: 'p1', role: 'assistant', content: 'Answer to the first try', state: 'done' },
      { id: 'p2', parent_id: null, role: 'user', content: 'Second try' },
      { id: 'a2', parent_id: 'p2', role: 'assistant', content: 'Old answer', state: 'done' },
      { id: 'a3', parent_id: 'p2', role: 'assistant', content: 'New answer', state: 'done' },
    ],
  };

  it('version 2: the whole tree and its current branch go out and come back; Markdown shows the current branch', () => {
    const file = JSON.parse(JSON.stringify(toExportFile([tree])));
    expect(file.version).toBe(2);
    expect(file.conversations[0].current_message_id).toBe('a3');
    expect(file.conversations[0].messages.map((m: { id: string; parent_id: string | null }) => [m.id, m.parent_id])).toEqual([
      ['p1', null],
      ['a1', 'p1'],
      ['p2', null],
      ['a2', 'p2'],
      ['a3', 'p2'],
    ]);
    const [back] = parseImport(JSON.stringify(file));
    const body = importBody(back!) as { current_message_id: string; messages: Array<{ id: string; parent_id: string | null; content: string }> };
    expect(body.current_message_id).toBe('a3');
    expect(body.messages.map((m) => [m.id, m.parent_id, m.content])).toEqual(tree.messages.map((m) => [m.id, m.parent_id, m.content]));

    const md = toMarkdown(tree);
    expect(md).toContain('## You\n\nSecond try');
    expect(md).toContain('New answer');
    for (const gone of ['First try', 'Old answer']) expect(md).not.toContain(gone);
    // No current message named: the branch of the last message in the list.
    expect(toMarkdown({ ...tree, current_message_id: null, messages: tree.messages.slice(0, 4) })).toContain('Old answer');
  });

  it('a tree written children first is sent parents first; version 1 files still import as a plain list', () => {
    const shuffled = { ...tree, messages: [...tree.messages].reverse() };
    const body = importBody(parseImport(JSON.stringify(toExportFile([shuffled])))[0]!) as { messages: Array<{ id: string }> };
    const order = body.messages.map((m) => m.id);
    expect(order.indexOf('p2')).toBeLessThan(order.indexOf('a3'));
    expect(order.indexOf('p1')).toBeLessThan(order.indexOf('a1'));

    const v1 = { format: 'jarvis.conversations', version: 1, conversations: [{ title: 'Old', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello', state: 'done' }] }] };
    const [old] = parseImport(JSON.stringify(v1));
    const oldBody = importBody(old!) as { messages: Array<Record<string, unknown>>; current_message_id?: string };
    expect(oldBody.current_message_id).toBeUndefined();
    expect(oldBody.messages).toEqual([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello', state: 'done' }]);
    expect(toMarkdown(old!)).toContain('## You\n\nhi');
  });

  it('refuses a tree it cannot rebuild, in words', () => {
    const file = (messages: unknown[], current?: string) => JSON.stringify({ format: 'jarvis.conversations', version: 2, conversations: [{ messages, current_message_id: current }] });
    const u = (id: unknown, parent: unknown) => ({ id, parent_id: parent, role: 'user', content: 'x' });
    expect(() => parseImport(file([u('a', null), u('a', null)]))).toThrow(/used twice/);
    expect(() => parseImport(file([u('a', 'zz')]))).toThrow(/parent "zz" is not in the file/);
    expect(() => parseImport(file([u('a', 'b'), u('b', 'a')]))).toThrow(/their own ancestors/);
    expect(() => parseImport(file([u('a', null), { role: 'user', content: 'no id' }]))).toThrow(/needs an id/);
    expect(() => parseImport(file([u('a', null)], 'nope'))).toThrow(/current message "nope"/);
  });

  it('file names from titles', () => {
    expect(fileNameFor('Trip to Lisbon: what to see?', 'md')).toBe('Trip-to-Lisbon-what-to-see.md');
    expect(fileNameFor('<>/', 'json')).toBe('conversation.json');
  });
});
