// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addDays, monthStart, utcDay } from '../../../../src/client/admin/usageSummary.js';
import { polyfillDialog, ScriptedAdminServer, usageRow } from '../admin/scriptedAdminServer.js';
import { UsageDialog } from './UsageDialog.js';

// A person's own usage (docs/ui.md "Usage"): today, this month, and the limits with what is left.

beforeAll(polyfillDialog);
afterEach(cleanup);

const cells = (row: HTMLElement) => [...row.querySelectorAll('th, td')].map((c) => c.textContent);

describe('your usage', () => {
  it("today's and this month's tokens and requests, per model, and what is left of the daily limit", async () => {
    const server = new ScriptedAdminServer();
    server.me = { ...server.me, name: 'alice', admin: false, via: 'key', key_name: 'alice-laptop', limits: { rpm: 30, tokens_per_day: 1000 } };
    const today = utcDay(new Date());
    const earlier = today === monthStart(today) ? null : addDays(today, -1);
    server.usage = [usageRow(today, 'alice', 'llama', 100, 150), ...(earlier ? [usageRow(earlier, 'alice', 'qwen', 1000, 2000)] : [])];
    render(<UsageDialog open api={server.api} me={server.me} onClose={() => {}} />);

    expect(server.calls).toEqual([`GET /v1/usage?from=${monthStart(today)}&to=${today}`]);
    const todayCard = await screen.findByTestId('usage-today');
    expect(todayCard.textContent).toBe('Today (UTC)250 tokens100 in · 150 out · 1 request');
    expect(screen.getByTestId('usage-month').textContent).toContain(earlier ? '3,250 tokens' : '250 tokens');
    const limits = within(screen.getByTestId('usage-limits')).getAllByRole('listitem').map((li) => li.textContent);
    expect(limits).toEqual(['Requests per minute30', 'Tokens per day (UTC)750 left of 1,000']);
    expect(screen.getByRole('meter', { name: 'Tokens per day (UTC): used' }).getAttribute('value')).toBe('250');
    const byModel = within(screen.getByTestId('usage-by-model')).getAllByRole('row').map(cells);
    expect(byModel.slice(1)).toEqual([['llama', '1', '250'], ...(earlier ? [['qwen', '1', '3,000']] : [])]);
    expect(screen.getByTestId('who').textContent).toBe('Signed in as alice');
  });

  it('says when no limits apply, and reads nothing while closed', async () => {
    const server = new ScriptedAdminServer();
    const { rerender } = render(<UsageDialog open={false} api={server.api} me={server.me} onClose={() => {}} />);
    expect(server.calls).toEqual([]);
    rerender(<UsageDialog open api={server.api} me={server.me} onClose={() => {}} />);
    expect((await screen.findByTestId('usage-limits')).textContent).toBe('No limits apply to you.');
    expect(screen.getByTestId('usage-today').textContent).toContain('0 tokens');
    expect(screen.queryByTestId('usage-by-model')).toBeNull();
  });
});
