import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { api, newConversation, sendMessage, settledConversation } from '../helpers/streamReader.js';
import { bigPng, image, PNG_URL, textFile } from './attachmentFiles.js';

// Attachments in front of an OpenAI-compatible server (docs/conversations.md "Attachments"): it
// lists no capabilities, so the images are sent, as `image_url` parts; and a conversation with
// files goes out as an export and comes back in as an import with them.

let j: TestJarvis;
beforeAll(async () => {
  j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
  j.fake!.plan = () => ({ tokens: ['ok'], tokenMs: 1 });
});
afterAll(async () => {
  await j.close();
});

describe('attachments to an OpenAI-compatible server', () => {
  it('images as image_url parts after the text, the files in the text', async () => {
    const models = (await api(j.url, 'GET', '/v1/models')).body.data as Array<{ id: string }>;
    const id = await newConversation(j.url, { model: models[0]!.id });
    const answer = sendMessage(j.url, id, { content: 'Look.', attachments: [image('dot.png'), textFile('a.txt', 'alpha')] });
    await answer.finished;
    expect(answer.status).toBe(200);
    expect((await api(j.url, 'GET', `/v1/models/${models[0]!.id}`)).body.capabilities).toBeUndefined();
    const body = j.fake!.requests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> };
    expect(body.messages.at(-1)).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'Look.\n\na.txt:\n```\nalpha\n```' },
        { type: 'image_url', image_url: { url: PNG_URL } },
      ],
    });
  });

  it('an export (GET …/tree) imports back with its files', async () => {
    const id = await newConversation(j.url, {});
    const answer = sendMessage(j.url, id, { content: 'Keep these.', attachments: [image('dot.png'), textFile('a.txt', 'alpha')] });
    await answer.finished;
    await settledConversation(j.url, id);
    const tree = (await api(j.url, 'GET', `/v1/conversations/${id}/tree`)).body;
    // An export file's messages: the import's fields of each (ImportedMessageJson).
    const messages = tree.messages.map((m: Record<string, unknown>) => ({
      id: m.id,
      parent_id: m.parent_id,
      role: m.role,
      content: m.content,
      ...(m.role === 'assistant' ? { state: m.state } : {}),
      ...(m.attachments ? { attachments: m.attachments } : {}),
    }));
    const imported = await api(j.url, 'POST', '/v1/conversations', { title: 'Copy', messages, current_message_id: tree.current_message_id });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    const copy = (await api(j.url, 'GET', `/v1/conversations/${imported.body.id}`)).body;
    expect(copy.messages[0].attachments).toEqual(tree.messages[0].attachments);
    expect(copy.messages[0].attachments.map((a: { name: string }) => a.name)).toEqual(['dot.png', 'a.txt']);
  });

  it('an import with images over the usual 1 MiB body limit comes in whole (JARVIS_IMPORT_MAX_BYTES)', async () => {
    const big = { type: 'image', name: 'big.png', mime: 'image/png', size: 3 << 20, data_url: bigPng(3 << 20) };
    const imported = await api(j.url, 'POST', '/v1/conversations', { messages: [{ role: 'user', content: 'Big.', attachments: [big] }, { role: 'assistant', content: 'ok', state: 'done' }] });
    expect(imported.status, JSON.stringify(imported.body).slice(0, 300)).toBe(201);
    const copy = (await api(j.url, 'GET', `/v1/conversations/${imported.body.id}`)).body;
    expect(copy.messages[0].attachments[0].data_url).toBe(big.data_url);
  });
});
