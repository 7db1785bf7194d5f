import type { FakePlan } from '../../test/helpers/fakes/fakeOllama.js';
import type { ChatPage } from './chatPage.js';

// What the browser tests of daily use read besides the page: the conversations as the
// server stores them (the Conversations API, docs/conversations.md), and a fake model whose
// answers say which prompt and which try they answer.

/** Answers numbered per prompt: the first answer to "A" is "A-1 …", the next "A-2 …". */
export function countingPlan(tokens = 6, tokenMs = 5): (prompt: string) => FakePlan {
  const seen = new Map<string, number>();
  return (prompt) => {
    const n = (seen.get(prompt) ?? 0) + 1;
    seen.set(prompt, n);
    return { tokens: Array.from({ length: tokens }, (_, i) => `${prompt}-${n}#${i} `), tokenMs };
  };
}

/** A JSON call to Jarvis at `url` (no key); a failure throws with the status and body. */
export async function api<T>(url: string, path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${url}${path}`, { ...init, headers: { 'content-type': 'application/json', ...init?.headers } });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export interface StoredMessage {
  role: string;
  content: string;
  state?: string;
  model?: string | null;
  usage?: { completion_tokens: number } | null;
}

export interface StoredConversation {
  id: string;
  title: string;
  system: string | null;
  model: string | null;
  temperature: number | null;
  max_tokens: number | null;
  messages: StoredMessage[];
}

/** The conversation's current branch as the server has it. */
export const stored = (url: string, id: string) => api<StoredConversation>(url, `/v1/conversations/${id}`);

/** The text of each user message on the page, in order. */
export const userTexts = (chat: ChatPage) => chat.page.locator('article[data-role="user"] .message-body').allTextContents();
