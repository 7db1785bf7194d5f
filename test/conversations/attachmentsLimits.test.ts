import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { api, newConversation, sendMessage } from '../helpers/streamReader.js';
import { bigPng, dataUrl, image, pdfFile, textFile, type OllamaChat } from './attachmentFiles.js';

// The bounds on attachments and the files Jarvis cannot read (docs/conversations.md
// "Attachments", docs/errors.md): each a clear 4xx naming the file, and nothing stored.

let j: TestJarvis;
let fake: FakeOllama;
const MODEL = 'fake-llama:latest';

beforeAll(async () => {
  j = await startTestJarvis({
    JARVIS_ATTACHMENTS_MAX: '3',
    JARVIS_ATTACHMENT_MAX_BYTES: '4000',
    JARVIS_ATTACHMENT_MAX_CHARS: '50',
    JARVIS_ATTACHMENTS_MAX_TOTAL_BYTES: '9000',
    JARVIS_IMAGE_MAX_BYTES: '5000',
    JARVIS_IMAGES_PER_REQUEST: '2',
    JARVIS_STORAGE_QUOTA_BYTES: '60000',
  });
  fake = j.fake as FakeOllama;
  fake.visionModels.add(MODEL);
  fake.plan = () => ({ tokens: ['ok'], tokenMs: 1 });
});
afterAll(async () => {
  await j.close();
});

async function refused(body: Record<string, unknown>, status: number, code: string, message?: string | RegExp) {
  const id = await newConversation(j.url, { model: MODEL });
  const answer = sendMessage(j.url, id, { content: 'Read this.', ...body });
  await answer.finished;
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  const error = (answer.body as { error: { code: string; message: string } }).error;
  expect(error.code).toBe(code);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else if (message) expect(error.message).toMatch(message);
  expect((await api(j.url, 'GET', `/v1/conversations/${id}`)).body.messages).toEqual([]);
}

describe('limits', () => {
  it('files per message (JARVIS_ATTACHMENTS_MAX)', async () => {
    const four = ['a', 'b', 'c', 'd'].map((n) => textFile(`${n}.txt`, n));
    await refused({ attachments: four }, 400, 'too_many_attachments', 'this message has 4 files; Jarvis takes at most 3 per message (JARVIS_ATTACHMENTS_MAX)');
  });

  it('bytes per file, per image, per message; images per request', async () => {
    await refused({ attachments: [textFile('big.csv', 'x'.repeat(5000))] }, 413, 'attachment_too_large', /^the file "big.csv" is .* MiB; Jarvis takes files of up to .* \(JARVIS_ATTACHMENT_MAX_BYTES\)$/);
    await refused({ attachments: [image('big.png', bigPng(6000))] }, 413, 'image_too_large', /JARVIS_IMAGE_MAX_BYTES/);
    const three = ['a', 'b', 'c'].map((n) => textFile(`${n}.txt`, 'y'.repeat(3500)));
    await refused({ attachments: three }, 413, 'attachment_too_large', /JARVIS_ATTACHMENTS_MAX_TOTAL_BYTES/);
    await refused({ attachments: [image('1.png'), image('2.png'), image('3.png')] }, 400, 'too_many_images', /JARVIS_IMAGES_PER_REQUEST/);
  });

  it('text beyond JARVIS_ATTACHMENT_MAX_CHARS is cut, and marked so for the model and the reader', async () => {
    const id = await newConversation(j.url, { model: MODEL });
    const answer = sendMessage(j.url, id, { content: 'Long.', attachments: [textFile('long.txt', 'z'.repeat(80))] });
    await answer.finished;
    expect(answer.status).toBe(200);
    expect((fake.requests.at(-1)!.body as OllamaChat).messages.at(-1)!.content).toBe(`Long.\n\nlong.txt (only its first 50 characters):\n\`\`\`\n${'z'.repeat(50)}\n\`\`\``);
    const conv = (await api(j.url, 'GET', `/v1/conversations/${id}`)).body;
    expect(conv.messages[0].attachments[0]).toMatchObject({ name: 'long.txt', size: 80, text: 'z'.repeat(50), truncated: true });
  });

  it('the storage quota counts the files', async () => {
    const id = await newConversation(j.url, { model: MODEL });
    // Two images of 4,500 bytes: about 12 KB stored per message (as base64).
    const files = [image('a.png', bigPng(4500)), image('b.png', bigPng(4500))];
    let status = 200;
    let sent = 0;
    while (status === 200 && sent < 10) {
      const answer = sendMessage(j.url, id, { content: `Turn ${sent}.`, attachments: files });
      await answer.finished;
      status = answer.status;
      if (status === 200) sent++;
      else expect((answer.body as any).error.code).toBe('storage_quota_exceeded');
    }
    expect(status).toBe(403);
    // 60,000 bytes hold at most 60,000 / 12,000 of them.
    expect(sent).toBeLessThanOrEqual(5);
    expect(sent).toBeGreaterThanOrEqual(3);
  });
});

describe('files Jarvis cannot read', () => {
  it('a binary file that is not UTF-8', async () => {
    const bin = { type: 'file', name: 'photo.raw', data_url: dataUrl('application/octet-stream', Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x90])) };
    await refused({ attachments: [bin] }, 400, 'invalid_attachment', /^the file "photo.raw" cannot be attached: it is not UTF-8 text/);
  });

  it('an encrypted PDF, a damaged PDF', async () => {
    await refused({ attachments: [pdfFile('locked.pdf', 'locked.pdf')] }, 400, 'invalid_attachment', 'the file "locked.pdf" cannot be attached: the PDF is encrypted (it needs a password); attach a copy without a password');
    const broken = { type: 'file', name: 'broken.pdf', data_url: dataUrl('application/pdf', '%PDF-1.4\nnot really a pdf') };
    await refused({ attachments: [broken] }, 400, 'invalid_attachment', /^the file "broken.pdf" cannot be attached: the PDF cannot be read/);
  });

  it('an image that is not PNG, JPEG, GIF or WebP; a file that is not a data: URL', async () => {
    const bmp = { type: 'image', name: 'old.bmp', data_url: dataUrl('image/png', Buffer.concat([Buffer.from('BM'), Buffer.alloc(40)])) };
    await refused({ attachments: [bmp] }, 400, 'invalid_attachment', 'the file "old.bmp" cannot be attached: it is not a PNG, JPEG, GIF or WebP image (it is image/bmp)');
    await refused({ attachments: [{ type: 'file', name: 'x.txt', data_url: 'https://example.com/x.txt' }] }, 400, 'invalid_attachment', /base64 data: URL/);
    await refused({ attachments: [{ type: 'file', name: 'x.txt' }] }, 400, 'invalid_request');
  });
});
