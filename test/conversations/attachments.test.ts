import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { api, newConversation, sendMessage, settledConversation } from '../helpers/streamReader.js';
import { bigPng, image, PNG_BASE64, pdfFile, textFile, type OllamaChat } from './attachmentFiles.js';

// Attachments (docs/conversations.md "Attachments") over real HTTP, in front of a fake Ollama
// that records what the model got: images as Ollama's `images`, files' text in the prompt
// under their names; stored with the message, kept by a reload and an edit.

let j: TestJarvis;
let fake: FakeOllama;
const VISION = 'fake-llama:latest';
const TEXT_ONLY = 'fake-qwen:latest';

beforeAll(async () => {
  j = await startTestJarvis();
  fake = j.fake as FakeOllama;
  fake.visionModels.add(VISION);
  // Short replies: the default one repeats the prompt, files and all.
  fake.plan = () => ({ tokens: ['ok'], tokenMs: 1 });
});
afterAll(async () => {
  await j.close();
});

const lastChat = () => fake.requests.at(-1)!.body as OllamaChat;

async function send(id: string, body: Record<string, unknown>) {
  const answer = sendMessage(j.url, id, body);
  await answer.finished;
  return answer;
}

async function edit(id: string, messageId: string, body: Record<string, unknown>) {
  const res = await fetch(`${j.url}/v1/conversations/${id}/messages/${messageId}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, userId: res.headers.get('x-user-message-id'), text };
}

describe('attachments reach the model', () => {
  it('an image as an image part, a text file and a PDF\'s text under their names; GET keeps them', async () => {
    const id = await newConversation(j.url, { model: VISION });
    const answer = await send(id, {
      content: 'Summarise these.',
      attachments: [image('dot.png'), textFile('notes.md', '# Notes\nBuy `milk`.'), pdfFile('plan.pdf')],
    });
    expect(answer.status).toBe(200);
    expect(answer.terminal?.type).toBe('done');

    const user = lastChat().messages.at(-1)!;
    expect(user.role).toBe('user');
    expect(user.images).toEqual([PNG_BASE64]);
    expect(user.content).toBe(
      'Summarise these.\n\nnotes.md:\n```md\n# Notes\nBuy `milk`.\n```\n\nplan.pdf (the text of a PDF):\n```\nQuarterly plan: ship attachments by Friday.\n```',
    );

    const conv = await settledConversation(j.url, id);
    expect(conv.messages[0].attachments).toEqual([
      { type: 'image', name: 'dot.png', mime: 'image/png', size: 70, data_url: `data:image/png;base64,${PNG_BASE64}` },
      { type: 'file', name: 'notes.md', mime: 'text/markdown', size: 19, text: '# Notes\nBuy `milk`.' },
      { type: 'file', name: 'plan.pdf', mime: 'application/pdf', size: expect.any(Number), text: 'Quarterly plan: ship attachments by Friday.' },
    ]);
    expect(conv.messages[1].attachments ?? []).toEqual([]);

    // The next prompt's history still shows the model the image and the files.
    await send(id, { content: 'And now?' });
    const history = lastChat().messages;
    expect(history[0]!.images).toEqual([PNG_BASE64]);
    expect(history[0]!.content).toContain('Quarterly plan');
    expect(history.at(-1)).toMatchObject({ role: 'user', content: 'And now?' });
    expect(history.at(-1)!.images).toBeUndefined();
  });

  it('a file whose text holds a fence gets a longer fence; a file named by its extension only is read as text', async () => {
    const id = await newConversation(j.url, { model: VISION });
    await send(id, { content: 'Look.', attachments: [textFile('README.md', 'a\n```js\nx\n```\n'), textFile('data.csv', 'a,b\n1,2', 'application/octet-stream')] });
    expect(lastChat().messages.at(-1)!.content).toBe('Look.\n\nREADME.md:\n````md\na\n```js\nx\n```\n\n````\n\ndata.csv:\n```csv\na,b\n1,2\n```');
  });

  it('a message with a 2 MiB image passes the usual 1 MiB body limit', async () => {
    const id = await newConversation(j.url, { model: VISION });
    const answer = await send(id, { content: 'Big one.', attachments: [image('big.png', bigPng(2 << 20))] });
    expect(answer.status).toBe(200);
    expect(lastChat().messages.at(-1)!.images![0]!.length).toBeGreaterThan(2 << 20);
  });
});

describe('vision', () => {
  it('refuses images for a model whose server lists no vision, before anything is stored', async () => {
    const id = await newConversation(j.url, { model: TEXT_ONLY });
    const before = fake.requests.length;
    const refused = await send(id, { content: 'What is this?', attachments: [image()] });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      error: {
        code: 'model_lacks_vision',
        message: `${TEXT_ONLY} does not take images (its model server lists: completion, tools). Pick a model that has vision, or remove the image.`,
      },
    });
    expect(fake.requests.length).toBe(before);
    expect((await api(j.url, 'GET', `/v1/conversations/${id}`)).body.messages).toEqual([]);
    // The prompt's own model wins over the conversation's; text files need no vision.
    expect((await send(id, { content: 'Now?', model: VISION, attachments: [image()] })).status).toBe(200);
    expect((await send(id, { content: 'Text only.', model: VISION, attachments: [textFile('a.txt', 'hello')] })).status).toBe(200);
    const plain = await newConversation(j.url, { model: TEXT_ONLY });
    expect((await send(plain, { content: 'Text only.', attachments: [textFile('a.txt', 'hello')] })).status).toBe(200);
  });

  it('sends the images when the server lists no capabilities (it answers for itself)', async () => {
    fake.listsCapabilities = false;
    try {
      const id = await newConversation(j.url, { model: TEXT_ONLY });
      const answer = await send(id, { content: 'What is this?', attachments: [image()] });
      expect(answer.status).toBe(200);
      expect(lastChat().messages.at(-1)!.images).toEqual([PNG_BASE64]);
    } finally {
      fake.listsCapabilities = true;
    }
  });

  it('GET /v1/models/{id} names the capabilities the model\'s server lists', async () => {
    expect((await api(j.url, 'GET', `/v1/models/${VISION}`)).body.capabilities).toEqual(['completion', 'vision']);
    expect((await api(j.url, 'GET', `/v1/models/${TEXT_ONLY}`)).body.capabilities).toEqual(['completion', 'tools']);
  });
});

describe('edit', () => {
  it('keeps the old version\'s files without `attachments`, replaces them with a list, drops them with []', async () => {
    const id = await newConversation(j.url, { model: VISION });
    await send(id, { content: 'First.', attachments: [image(), textFile('a.txt', 'alpha')] });
    let conv = await settledConversation(j.url, id);
    const first = conv.messages[0].id;

    const kept = await edit(id, first, { content: 'First, again.' });
    expect(kept.status).toBe(200);
    expect(lastChat().messages.at(-1)).toMatchObject({ content: 'First, again.\n\na.txt:\n```\nalpha\n```', images: [PNG_BASE64] });
    conv = await settledConversation(j.url, id);
    expect(conv.messages[0].attachments.map((a: any) => a.name)).toEqual(['dot.png', 'a.txt']);

    await edit(id, conv.messages[0].id, { content: 'Other file.', attachments: [textFile('b.txt', 'beta')] });
    expect(lastChat().messages.at(-1)!.content).toBe('Other file.\n\nb.txt:\n```\nbeta\n```');
    expect(lastChat().messages.at(-1)!.images).toBeUndefined();
    conv = await settledConversation(j.url, id);
    expect(conv.messages[0].attachments.map((a: any) => a.name)).toEqual(['b.txt']);

    await edit(id, conv.messages[0].id, { content: 'No files.', attachments: [] });
    expect(lastChat().messages.at(-1)!.content).toBe('No files.');
    conv = await settledConversation(j.url, id);
    expect(conv.messages[0].attachments ?? []).toEqual([]);
  });

  it('refuses an edit that keeps images when the conversation\'s model has no vision', async () => {
    const id = await newConversation(j.url, { model: VISION });
    await send(id, { content: 'Look.', attachments: [image()] });
    const conv = await settledConversation(j.url, id);
    const refused = await edit(id, conv.messages[0].id, { content: 'Look again.', model: TEXT_ONLY });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text).error.code).toBe('model_lacks_vision');
  });
});

describe('vision across the branch', () => {
  it('a later prompt or a regeneration for a model without vision is refused when the branch holds images', async () => {
    const id = await newConversation(j.url, { model: VISION });
    await send(id, { content: 'Look.', attachments: [image()] });
    await settledConversation(j.url, id);
    const later = await api(j.url, 'POST', `/v1/conversations/${id}/messages`, { content: 'And now?', model: TEXT_ONLY });
    expect(later.status).toBe(400);
    expect(later.body.error.code).toBe('model_lacks_vision');
    const again = await api(j.url, 'POST', `/v1/conversations/${id}/regenerate`, { model: TEXT_ONLY });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('model_lacks_vision');
    // Nothing was stored by either; with the vision model the branch goes on.
    expect((await settledConversation(j.url, id)).messages).toHaveLength(2);
    const fine = await send(id, { content: 'And now?' });
    expect(fine.terminal?.type).toBe('done');
  });
});

describe('a hostile PDF', () => {
  it('a PDF made to exhaust memory is refused in words, read in a bounded process of its own: Jarvis goes on serving', async () => {
    // bomb.pdf: 400 KB that inflate to a 400 MB string (test/fixtures/makePdfs.py). Read on the
    // event loop, it killed the process (V8 out of memory); now its own process ends at its heap bound.
    const id0 = await newConversation(j.url, {});
    const pending = api(j.url, 'POST', `/v1/conversations/${id0}/messages`, { content: 'Read it.', attachments: [pdfFile('bomb.pdf', 'bomb.pdf')] });
    const health = await fetch(`${j.url}/health`);
    expect(health.status).toBe(200);
    const answer = await pending;
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'invalid_attachment', message: expect.stringMatching(/^the file "bomb.pdf" cannot be attached: reading its text needed more than/) });
    expect((await fetch(`${j.url}/health`)).status).toBe(200);
    // And the next PDF reads as ever.
    const id = await newConversation(j.url, {});
    await sendMessage(j.url, id, { content: 'Plan?', attachments: [pdfFile()] }).finished;
    expect((await settledConversation(j.url, id)).messages[0].attachments[0].text).toMatch(/Quarterly plan/);
  }, 60_000);
});
