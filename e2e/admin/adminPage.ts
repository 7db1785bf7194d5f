import type { Locator } from 'playwright-core';
import type { CreatedApiKeyJson, NewApiKeyJson } from '../../src/shared/team/admin.js';
import type { ChatPage } from '../helpers/chatPage.js';

// What the admin and usage browser tests share: signing in, the admin page's parts, and
// keys made through the API (what the UI does is tested by creating them in it).

export const WAIT = { timeout: 20_000, intervals: [50] };

export async function signIn(chat: ChatPage, key: string): Promise<void> {
  await chat.page.getByRole('heading', { name: 'Sign in to Jarvis' }).waitFor(WAIT);
  await chat.page.getByLabel('API key').fill(key);
  await chat.page.getByRole('button', { name: 'Sign in' }).click();
}

/** A key created with the admin API, as `jarvis keys create` would. */
export async function createKeyByApi(url: string, adminKey: string, body: NewApiKeyJson): Promise<CreatedApiKeyJson> {
  const response = await fetch(`${url}/v1/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201 && response.status !== 200) throw new Error(`POST /v1/admin/keys: ${response.status} ${await response.text()}`);
  return (await response.json()) as CreatedApiKeyJson;
}

/** The cells of a table row, as text. */
export function cells(row: Locator): Promise<string[]> {
  return row.locator('th, td').allTextContents();
}

export async function keyRow(chat: ChatPage, name: string): Promise<Locator> {
  return chat.page.getByTestId('key-table').getByRole('row').filter({ has: chat.page.getByRole('rowheader', { name, exact: true }) });
}

/** A chat model call with `key`: the status Jarvis answers. */
export async function chatStatus(url: string, key: string): Promise<number> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake-llama:latest', messages: [{ role: 'user', content: 'ping' }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Console errors but the browser's own line for a refused call: the 401 before signing in, a non-admin's 403. */
export function unexpected(errors: string[]): string[] {
  return errors.filter((e) => !/^Failed to load resource: the server responded with a status of 40[13] /.test(e));
}
