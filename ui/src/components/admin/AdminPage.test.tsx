// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminApp } from '../../AdminApp.js';
import { ApiKeyStore, withApiKey } from '../../lib/browser/auth.js';
import { polyfillDialog, ScriptedAdminServer, usageRow } from './scriptedAdminServer.js';
import { utcDay } from '../../../../src/client/admin/usageSummary.js';

// The admin page (docs/ui.md "Admin page") against a scripted server: who may see it, a key
// shown once, edit in a dialog, revoke with a confirmation, everyone's usage. The real server is in e2e/admin/.

beforeAll(polyfillDialog);
afterEach(cleanup);

const cells = (row: HTMLElement) => [...row.querySelectorAll('th, td')].map((c) => c.textContent);

function open(server: ScriptedAdminServer) {
  const store = new ApiKeyStore(undefined);
  return render(<AdminApp api={withApiKey(server.api, store)} auth={store} signInApi={server.api} />);
}

describe('the admin page', () => {
  it('tells a non-admin it is for admins, shows who they are, and asks for no key list', async () => {
    const server = new ScriptedAdminServer();
    server.me = { ...server.me, name: 'alice', admin: false, via: 'key', key_name: 'alice-laptop' };
    open(server);
    const notice = await screen.findByTestId('admin-notice');
    expect(within(notice).getByRole('heading').textContent).toBe('For admins only');
    expect(within(notice).getByTestId('who').textContent).toBe('Signed in as alice');
    expect(within(notice).getByRole('link', { name: 'Back to the chat' }).getAttribute('href')).toBe('/');
    expect(screen.queryByRole('button', { name: 'Create key' })).toBeNull();
    expect(server.calls.filter((c) => c.includes('/admin/'))).toEqual([]);
  });

  it('creates a key and shows it once, with a Copy button and a warning; then only its prefix is listed', async () => {
    const server = new ScriptedAdminServer();
    open(server);
    expect((await screen.findByTestId('who')).textContent).toBe('Signed in as rootAdmin');
    await screen.findByTestId('no-keys');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'alice-laptop' } });
    fireEvent.change(screen.getByLabelText('Owner'), { target: { value: 'alice@example.com' } });
    fireEvent.change(screen.getByLabelText('Tokens per day (UTC)'), { target: { value: '5000' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));

    const shown = await screen.findByTestId('new-key');
    expect(shown.textContent).toContain('you won’t see it again');
    const value = within(shown).getByLabelText<HTMLInputElement>('The new key').value;
    expect(value).toMatch(/^jk-secret1x{36}$/);
    expect(within(shown).getByRole('button', { name: 'Copy' })).toBeTruthy();
    // Focus moves in an effect after the render that showed it: waited for, not assumed.
    await waitFor(() => expect(document.activeElement).toBe(within(shown).getByRole('heading')));
    const posted = server.keys[0]!;
    expect(posted).toMatchObject({ name: 'alice-laptop', owner: 'alice@example.com', role: 'user', limits: { tokens_per_day: 5000 } });

    const row = within(screen.getByTestId('key-table')).getByRole('row', { name: /alice-laptop/ });
    expect(row.textContent).toContain('jk-secret1…');
    expect(row.textContent).toContain('5,000 tokens/day');
    expect(row.textContent).toContain('Active');
    // The form is empty again for the next key.
    expect(screen.getByLabelText<HTMLInputElement>('Name').value).toBe('');

    fireEvent.click(within(shown).getByRole('button', { name: 'I have copied it' }));
    expect(screen.queryByTestId('new-key')).toBeNull();
    expect(document.body.innerHTML).not.toContain(value);
  });

  it('refuses a limit that is not a whole number, and says which, before calling the server', async () => {
    const server = new ScriptedAdminServer();
    open(server);
    await screen.findByTestId('no-keys');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'k' } });
    fireEvent.change(screen.getByLabelText('Requests per minute'), { target: { value: '1.5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Requests per minute is a whole number');
    expect(server.calls.some((c) => c.startsWith('POST'))).toBe(false);
  });

  it('revokes a key only after a confirmation; Cancel keeps it', async () => {
    const server = new ScriptedAdminServer();
    open(server);
    await screen.findByTestId('no-keys');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'bob' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    await screen.findByTestId('new-key');
    fireEvent.click(screen.getByRole('button', { name: 'I have copied it' }));

    fireEvent.click(screen.getByRole('button', { name: 'Revoke bob' }));
    const dialog = screen.getByTestId('revoke-dialog');
    expect(dialog.hasAttribute('open')).toBe(true);
    expect(within(dialog).getByRole('heading').textContent).toBe('Revoke the key “bob”?');
    await waitFor(() => expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' })));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(dialog.hasAttribute('open')).toBe(false);
    expect(server.calls.some((c) => c.startsWith('DELETE'))).toBe(false);

    fireEvent.click(screen.getByRole('button', { name: 'Revoke bob' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Revoke key' }));
    // Gone from the list of active keys, and said so; listed as revoked on asking.
    await screen.findByText('No active stored keys.');
    expect(screen.getByText('Revoked “bob”: it no longer works.')).toBeTruthy();
    expect(server.calls).toContain('DELETE /v1/admin/keys/key_1');
    expect(dialog.hasAttribute('open')).toBe(false);
    fireEvent.click(screen.getByLabelText('Show revoked keys'));
    await waitFor(() => expect(within(screen.getByTestId('key-table')).getByRole('row', { name: /bob/ }).textContent).toContain('Revoked'));
    expect(server.calls).toContain('GET /v1/admin/keys?include_revoked=true');
    expect(screen.queryByRole('button', { name: 'Revoke bob' })).toBeNull();
  });

  it("edits an active key in a dialog: only what changed is sent, the row shows the answer, a 400's words are shown", async () => {
    const server = new ScriptedAdminServer();
    const base = { object: 'api_key', owner: 'carol', role: 'user', created_at: '2026-12-01T10:00:00.000Z', revoked_at: null, last_used_at: null, created_by: 'root' } as const;
    server.keys.push({ ...base, id: 'key_old', name: 'old', prefix: 'jk-old0000', expires_at: '2026-01-01T00:00:00.000Z', limits: null });
    server.keys.push({ ...base, id: 'key_c', name: 'carol', prefix: 'jk-carol00', expires_at: '2099-01-31T23:59:59.999Z', limits: { rpm: 5, tpm: 1000 } });
    const patches: unknown[] = [];
    const fetch = server.api.fetch;
    server.api.fetch = (input, init) => {
      if (init?.method === 'PATCH') patches.push(JSON.parse(String(init.body)));
      return fetch(input, init);
    };
    open(server);
    const table = await screen.findByTestId('key-table');
    // An expired key may still be revoked, not edited.
    expect(within(table).queryByRole('button', { name: 'Edit old' })).toBeNull();
    expect(within(table).getByRole('button', { name: 'Revoke old' })).toBeTruthy();

    fireEvent.click(within(table).getByRole('button', { name: 'Edit carol' }));
    const dialog = screen.getByTestId('edit-key-dialog');
    expect(dialog.hasAttribute('open')).toBe(true);
    expect(within(dialog).getByRole('heading').textContent).toBe('Edit the key “carol”');
    const name = within(dialog).getByLabelText<HTMLInputElement>('Name');
    await waitFor(() => expect(document.activeElement).toBe(name));
    expect(name.value).toBe('carol');
    expect(within(dialog).getByLabelText<HTMLInputElement>('Expires').value).toBe('2099-01-31');
    const value = (label: string) => within(dialog).getByLabelText<HTMLInputElement>(label).value;
    expect([value('Requests per minute'), value('Tokens per minute'), value('Tokens per day (UTC)')]).toEqual(['5', '1000', '']);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(dialog.hasAttribute('open')).toBe(false);
    expect(patches).toEqual([]);

    // A name the server refuses: its words, and the dialog stays with what was typed.
    fireEvent.click(within(table).getByRole('button', { name: 'Edit carol' }));
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'c'.repeat(70) } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe('"name" must be 1-64 characters (what the key is for: "alice laptop", "ci")');
    expect(dialog.hasAttribute('open')).toBe(true);

    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'carol-desktop' } });
    fireEvent.change(within(dialog).getByLabelText('Expires'), { target: { value: '' } });
    fireEvent.change(within(dialog).getByLabelText('Requests per minute'), { target: { value: '1' } });
    fireEvent.change(within(dialog).getByLabelText('Tokens per minute'), { target: { value: '' } });
    fireEvent.change(within(dialog).getByLabelText('Tokens per day (UTC)'), { target: { value: '900' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved “carol-desktop”.');
    expect(dialog.hasAttribute('open')).toBe(false);
    expect(patches[1]).toEqual({ name: 'carol-desktop', expires_at: null, limits: { rpm: 1, tokens_per_day: 900 } });
    const row = within(table).getByRole('row', { name: /carol-desktop/ });
    expect(cells(row).slice(5, 9)).toEqual(['Never', 'Never', '1 requests/min · 900 tokens/day', 'Active']);
    expect(server.calls.filter((c) => c.startsWith('GET /v1/admin/keys'))).toHaveLength(1);

    // Only what changed is sent; all limits emptied clear them (null).
    fireEvent.click(within(table).getByRole('button', { name: 'Edit carol-desktop' }));
    for (const label of ['Requests per minute', 'Tokens per day (UTC)']) fireEvent.change(within(dialog).getByLabelText(label), { target: { value: '' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(dialog.hasAttribute('open')).toBe(false));
    expect(patches[2]).toEqual({ limits: null });
    expect(cells(within(table).getByRole('row', { name: /carol-desktop/ }))[7]).toBe('Jarvis’s default');
  });

  it("shows everyone's usage per day, key and model with the totals, and rolls it up by key", async () => {
    const server = new ScriptedAdminServer();
    const today = utcDay(new Date());
    server.usage = [usageRow(today, 'alice', 'llama', 10, 20), usageRow(today, 'bob', 'qwen', 1, 2), usageRow(today, 'alice', 'qwen', 100, 200)];
    open(server);
    const table = await screen.findByTestId('usage-table');
    const rows = within(table).getAllByRole('row').map(cells);
    expect(rows[0]).toEqual(['Day', 'Key', 'Model', 'Requests', 'Prompt tokens', 'Completion tokens', 'Tokens', 'Stream time', 'Counted by']);
    expect(rows.slice(1, 4)).toEqual([
      [today, 'alice', 'llama', '1', '10', '20', '30', '1.5 s', 'model server'],
      [today, 'alice', 'qwen', '1', '100', '200', '300', '1.5 s', 'model server'],
      [today, 'bob', 'qwen', '1', '1', '2', '3', '1.5 s', 'model server'],
    ]);
    expect(cells(within(table).getByTestId('usage-totals'))).toEqual(['Total', '3', '111', '222', '333', '4.5 s', '']);
    fireEvent.change(screen.getByLabelText('Per'), { target: { value: 'key' } });
    const byKey = within(screen.getByTestId('usage-table')).getAllByRole('row').map(cells);
    expect(byKey.slice(1, 3)).toEqual([
      ['alice', '2', '110', '220', '330', '3.0 s', 'model server'],
      ['bob', '1', '1', '2', '3', '1.5 s', 'model server'],
    ]);
    expect(server.calls.filter((c) => c.startsWith('GET /v1/usage'))).toHaveLength(1);
  });

  it('keeps a first key on screen when the next call needs a sign-in (an open Jarvis turned sign-in on)', async () => {
    const server = new ScriptedAdminServer();
    server.me = { ...server.me, name: '', via: 'none', key_name: null };
    open(server);
    expect((await screen.findByRole('note')).textContent).toContain('the first key turns sign-in on');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'root' } });
    fireEvent.change(screen.getByLabelText('Role'), { target: { value: 'admin' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    const value = within(await screen.findByTestId('new-key')).getByLabelText<HTMLInputElement>('The new key').value;
    // Sign-in is on now: the next call is refused.
    const fetch = server.api.fetch;
    server.api.fetch = async (input, init) => (String(input).endsWith('/v1/models') ? fetch(input, init) : Response.json({ error: { code: 'unauthorized', message: 'key needed' } }, { status: 401 }));
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Refresh' })));
    await screen.findByRole('heading', { name: 'Sign in to Jarvis' });
    expect(within(screen.getByTestId('new-key')).getByLabelText<HTMLInputElement>('The new key').value).toBe(value);
  });
});
