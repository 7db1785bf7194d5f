// Reading Jarvis's OpenAI answers at the wire level, for tests that check bytes, not an SDK's view.

/** POSTs a chat body as it is given (`body` a string is sent verbatim) with these headers. */
export function postChat(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** The `data:` payloads of an SSE answer, parsed (`[DONE]` kept as the string). */
export async function sseData(res: Response): Promise<unknown[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => {
      const data = block.slice(6);
      return data === '[DONE]' ? data : JSON.parse(data);
    });
}

export async function ndjsonEvents(res: Response): Promise<Array<Record<string, unknown>>> {
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
