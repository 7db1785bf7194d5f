// The tests' NDJSON client is the one `jarvis diagnose` and `jarvis matrix` use.
export { chat, LiveChat as ChatCall, type ChatRequest as ChatOptions } from '../../src/diagnostics/live/httpChat.js';

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
