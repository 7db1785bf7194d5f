import OpenAI from 'openai';

// A person's data for the export and delete tests (docs/team.md "7. A person's data"): a
// conversation of two branches with a file, and a stored response, made through the public API.

export const FAKE_MODEL = 'fake-llama:latest';

export interface Seeded {
  conversationId: string;
  responseId: string;
}

/** Makes `title` (an imported tree: a prompt with a text file, two versions of its answer) and a stored response, as the caller of `key`. */
export async function seedPerson(url: string, key: string, title: string): Promise<Seeded> {
  const file = { type: 'file', name: 'notes.txt', mime: 'text/plain', size: 11, text: `${title} notes` };
  const res = await fetch(`${url}/v1/conversations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      title,
      messages: [
        { id: 'u1', parent_id: null, role: 'user', content: `${title}: what is in the file?`, attachments: [file] },
        { id: 'a1', parent_id: 'u1', role: 'assistant', content: 'first answer' },
        { id: 'a2', parent_id: 'u1', role: 'assistant', content: 'second answer' },
      ],
      current_message_id: 'a1',
    }),
  });
  const body = (await res.json()) as { id?: string; error?: unknown };
  if (res.status !== 201 || !body.id) throw new Error(`import of ${title}: ${res.status} ${JSON.stringify(body)}`);
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
  const response = await client.responses.create({ model: FAKE_MODEL, input: `${title}: a stored question` });
  return { conversationId: body.id, responseId: response.id };
}
