import type { FakePlan } from '../fakes/fakeUpstream.js';

/**
 * A fake model that behaves as an agent framework expects, by what the request
 * holds (in Ollama's or OpenAI's shape): after a tool result, an answer that
 * quotes it; with tools, a call to the first (or the forced) one; with a JSON
 * format or schema, a JSON object; a prompt with "think" reasons first.
 */
export function agentPlan(prompt: string, body: Record<string, unknown>): FakePlan {
  const messages = body.messages as Array<{ role: string; content: unknown }>;
  const last = messages.at(-1);
  if (last?.role === 'tool') return { tokens: ['The tool said: ', String(last.content)], tokenMs: 2 };
  const tools = body.tools as Array<{ function: { name: string } }> | undefined;
  const choice = body.tool_choice as { function?: { name: string } } | undefined;
  if (tools?.length) {
    const name = choice?.function?.name ?? tools[0]!.function.name;
    const args = name === 'Person' || name === 'extract' ? { name: 'Ada', age: 36 } : { city: 'Paris' };
    return { tokens: [], toolCalls: [{ name, arguments: args }], tokenMs: 2 };
  }
  if (body.format !== undefined || body.response_format !== undefined) return { tokens: ['{"name":', '"Ada",', '"age":36}'], tokenMs: 2 };
  const thinking = prompt.includes('think') ? ['Let me ', 'think ', 'about it.'] : undefined;
  return { ...(thinking ? { thinking } : {}), tokens: ['Hello ', 'from ', 'the ', 'fake.'], tokenMs: 2 };
}
