import { describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';
import { cells, unexpected, chatStatus, createKeyByApi, keyRow, signIn, WAIT } from './adminPage.js';

// The admin page (docs/ui.md "Admin page"), in real Chromium against a real Jarvis: a key
// created in the UI is shown once and works at once; edited in the UI, its new limits hold
// at once; revoked in the UI, it is refused; the page is offered to admins only. Keys and who-is-who: docs/team.md "Keys".

const ROOT = 'root-admin-key-0123456789abcdef';

const ui = useJarvisBrowser();

describe('the admin page', { timeout: 120_000 }, () => {
  it('an admin creates a key, sees it once, and it works at once; revoked in the UI, it is refused', async () => {
    const j = await ui.startJarvis({ JARVIS_ADMIN_KEYS: `root:${ROOT}` });
    const admin = await ui.openPage(`${j.url}/admin`, { waitForChat: false });
    await signIn(admin, ROOT);
    await admin.page.getByRole('heading', { name: 'Jarvis admin' }).waitFor(WAIT);
    expect(await admin.page.getByTestId('who').textContent()).toBe('Signed in as rootAdmin');
    await admin.page.getByTestId('no-keys').waitFor(WAIT);
    expect(await seriousViolations(admin.page)).toEqual([]);

    await admin.page.getByLabel('Name').fill('alice-laptop');
    await admin.page.getByLabel('Owner').fill('alice@example.com');
    await admin.page.getByLabel('Tokens per day (UTC)').fill('100000');
    await admin.page.getByRole('button', { name: 'Create key' }).click();
    const shown = admin.page.getByTestId('new-key');
    await shown.waitFor(WAIT);
    expect(await shown.textContent()).toContain('Copy it now: you won’t see it again.');
    const key = await shown.getByLabel('The new key').inputValue();
    expect(key).toMatch(/^jk-[A-Za-z0-9_-]{43}$/);
    expect(await admin.page.evaluate('document.activeElement?.tagName')).toBe('H3');
    expect(await seriousViolations(admin.page)).toEqual([]);
    await admin.screenshot('admin-new-key');

    // Works at once: the model API, and who Jarvis takes it for.
    expect(await chatStatus(j.url, key)).toBe(200);
    const me = await (await fetch(`${j.url}/v1/me`, { headers: { authorization: `Bearer ${key}` } })).json();
    expect(me).toMatchObject({ name: 'alice@example.com', admin: false, via: 'key', key_name: 'alice-laptop' });

    // Listed by its first characters only, and never shown again (not after a reload either).
    const row = await keyRow(admin, 'alice-laptop');
    const listed = await cells(row);
    expect(listed.slice(0, 4)).toEqual(['alice-laptop', `${key.slice(0, 10)}…`, 'alice@example.com', 'User']);
    expect(listed[7]).toBe('100,000 tokens/day');
    expect(listed[8]).toBe('Active');
    await shown.getByRole('button', { name: 'I have copied it' }).click();
    await expect.poll(() => shown.count(), WAIT).toBe(0);
    await admin.page.reload();
    await (await keyRow(admin, 'alice-laptop')).waitFor(WAIT);
    expect(await admin.page.content()).not.toContain(key);
    // Used a moment ago: the list says when.
    expect((await cells(await keyRow(admin, 'alice-laptop')))[6]).not.toBe('Never');

    // Revoke asks first; then the key is refused within a second.
    await admin.page.getByRole('button', { name: 'Revoke alice-laptop' }).click();
    const dialog = admin.page.getByTestId('revoke-dialog');
    await expect.poll(() => dialog.isVisible(), WAIT).toBe(true);
    expect(await seriousViolations(admin.page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await admin.page.getByText('Revoked “alice-laptop”: it no longer works.').waitFor(WAIT);
    const revokedAt = Date.now();
    await expect.poll(() => chatStatus(j.url, key), { timeout: 1000, interval: 50 }).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    // Out of the list of active keys; listed as revoked on asking.
    expect(await admin.page.getByTestId('no-keys').textContent()).toBe('No active stored keys.');
    await admin.page.getByLabel('Show revoked keys').check();
    await expect.poll(async () => (await cells(await keyRow(admin, 'alice-laptop')))[8], WAIT).toMatch(/^Revoked/);
    expect(await admin.page.getByRole('button', { name: 'Revoke alice-laptop' }).count()).toBe(0);
    expect(await seriousViolations(admin.page)).toEqual([]);
    expect(unexpected(admin.errors)).toEqual([]);
  });

  it("an admin edits a key's limits in a dialog: rpm 1 holds at once, the key's second request in the minute is refused", async () => {
    const j = await ui.startJarvis({ JARVIS_ADMIN_KEYS: `root:${ROOT}` });
    const carol = await createKeyByApi(j.url, ROOT, { name: 'carol-laptop', owner: 'carol' });
    const admin = await ui.openPage(`${j.url}/admin`, { waitForChat: false });
    await signIn(admin, ROOT);
    const row = await keyRow(admin, 'carol-laptop');
    await row.waitFor(WAIT);
    const edit = row.getByRole('button', { name: 'Edit carol-laptop' });
    await edit.click();
    const dialog = admin.page.getByTestId('edit-key-dialog');
    await expect.poll(() => dialog.isVisible(), WAIT).toBe(true);
    expect(await dialog.getByRole('heading').textContent()).toBe('Edit the key “carol-laptop”');
    expect(await dialog.getByLabel('Name').evaluate((el) => el === (el.ownerDocument as { activeElement: unknown }).activeElement)).toBe(true);
    expect(await seriousViolations(admin.page)).toEqual([]);
    // Escape closes it, sending nothing; the keyboard is back on the row's Edit.
    await admin.page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible(), WAIT).toBe(false);
    expect(await edit.evaluate((el) => el === (el.ownerDocument as { activeElement: unknown }).activeElement)).toBe(true);

    await edit.click();
    // A name the server refuses: its words, in the dialog.
    await dialog.getByLabel('Name').fill('c'.repeat(70));
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent(), WAIT).toContain('"name" must be 1-64 characters');
    await dialog.getByLabel('Name').fill('carol-laptop');
    await dialog.getByLabel('Requests per minute').fill('1');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await admin.page.getByText('Saved “carol-laptop”.').waitFor(WAIT);
    await expect.poll(() => dialog.isVisible(), WAIT).toBe(false);
    expect((await cells(row))[7]).toBe('1 requests/min');

    // rpm counts per clock minute: both requests in the same one.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 5_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
    expect(await chatStatus(j.url, carol.key)).toBe(200);
    const refused = await fetch(`${j.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-llama:latest', messages: [{ role: 'user', content: 'again' }] }),
    });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    // The browser logs the refused Save (400) as a failed load; nothing else.
    expect(unexpected(admin.errors).filter((e) => !/status of 400 /.test(e))).toEqual([]);
  });

  it("a person without the admin role is not offered the page, and its address says it is not theirs", async () => {
    const j = await ui.startJarvis({ JARVIS_ADMIN_KEYS: `root:${ROOT}` });
    const bob = await createKeyByApi(j.url, ROOT, { name: 'bob-laptop', owner: 'bob' });
    const chat = await ui.openPage(j.url, { waitForChat: false });
    await signIn(chat, bob.key);
    await chat.input.waitFor(WAIT);
    const account = chat.page.getByTestId('account').first();
    await expect.poll(() => account.getByTestId('who').textContent(), WAIT).toBe('Signed in as bob');
    expect(await chat.page.getByRole('link', { name: 'Admin page' }).count()).toBe(0);

    await chat.page.goto(`${j.url}/admin`);
    const notice = chat.page.getByTestId('admin-notice');
    // The page shows a loading notice ("Admin") until it knows who is signed in: wait for the verdict.
    await expect.poll(() => notice.getByRole('heading').textContent(), WAIT).toBe('For admins only');
    expect(await notice.textContent()).toContain('Signed in as bob');
    expect(await chat.page.getByRole('button', { name: 'Create key' }).count()).toBe(0);
    expect(await seriousViolations(chat.page)).toEqual([]);
    // The API says the same, whatever the page shows.
    expect((await fetch(`${j.url}/v1/admin/keys`, { headers: { authorization: `Bearer ${bob.key}` } })).status).toBe(403);

    // An admin is offered it: from the account line, and from Settings.
    const other = await ui.openPage(j.url, { waitForChat: false });
    await signIn(other, ROOT);
    await other.input.waitFor(WAIT);
    await other.page.getByRole('button', { name: 'Settings', exact: true }).click();
    const settings = other.page.getByTestId('global-settings');
    await expect.poll(() => settings.getByTestId('who').textContent(), WAIT).toBe('Signed in as rootAdmin');
    await settings.getByRole('link', { name: 'Admin page' }).click();
    await other.page.getByRole('heading', { name: 'Jarvis admin' }).waitFor(WAIT);
    expect(new URL(other.page.url()).pathname).toBe('/admin');
    expect(unexpected(chat.errors)).toEqual([]);
  });

  it('on a Jarvis without keys, the first key (an admin one) turns sign-in on; it stays on screen until copied, and signs the page in', async () => {
    const j = await ui.startJarvis();
    const page = await ui.openPage(`${j.url}/admin`, { waitForChat: false });
    await page.page.getByRole('heading', { name: 'Jarvis admin' }).waitFor(WAIT);
    expect(await page.page.getByTestId('who').textContent()).toBe('Signed in as Anyone (no sign-in)Admin');
    await expect.poll(() => page.page.getByRole('note').textContent(), WAIT).toContain('the first key turns sign-in on');
    await page.page.getByLabel('Name').fill('root');
    await page.page.getByLabel('Role').selectOption('admin');
    await page.page.getByRole('button', { name: 'Create key' }).click();
    const key = await page.page.getByTestId('new-key').getByLabel('The new key').inputValue();
    // Sign-in is on: the page's next call is refused, and the key is still there above the sign-in.
    expect((await fetch(`${j.url}/v1/models`)).status).toBe(401);
    await page.page.getByRole('button', { name: 'Refresh' }).click();
    await page.page.getByRole('heading', { name: 'Sign in to Jarvis' }).waitFor(WAIT);
    expect(await page.page.getByTestId('new-key').getByLabel('The new key').inputValue()).toBe(key);
    expect(await seriousViolations(page.page)).toEqual([]);
    await page.page.getByLabel('API key').fill(key);
    await page.page.getByRole('button', { name: 'Sign in' }).click();
    await page.page.getByRole('heading', { name: 'Jarvis admin' }).waitFor(WAIT);
    await expect.poll(() => page.page.getByTestId('who').first().textContent(), WAIT).toBe('Signed in as rootAdmin');
    expect((await cells(await keyRow(page, 'root'))).slice(3, 4)).toEqual(['Admin']);
    expect(unexpected(page.errors)).toEqual([]);
  });
});
