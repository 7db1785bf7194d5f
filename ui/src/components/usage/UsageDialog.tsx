// A person's own usage (docs/ui.md "Usage"): today's and this month's tokens and requests,
// this month per model, and the limits that apply with what is left of today's budget.
// Opened from Settings and from the account line under the conversations; a native modal
// <dialog> like the other settings, read afresh each time it opens.

import { useId, useLayoutEffect, useRef, useState } from 'react';
import type { Api } from '../../../../src/client/api.js';
import { formatCount, limitStates, monthStart, ownSummary, rollUp, tokensOf, utcDay, type UsageTotals } from '../../../../src/client/admin/usageSummary.js';
import type { MeJson } from '../../../../src/shared/team/admin.js';
import { Who } from '../shell/Who.js';
import { useUsage } from './useUsage.js';
import './usage.css';

export function UsageDialog({ open, api, me, onClose }: { open: boolean; api: Api; me: MeJson | null; onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const ids = useId();
  // The day is taken when the dialog opens: a dialog left open past midnight (UTC) still adds up.
  const [today, setToday] = useState(() => utcDay(new Date()));
  useLayoutEffect(() => {
    const el = dialog.current;
    if (open && el && !el.open) {
      setToday(utcDay(new Date()));
      el.showModal();
    } else if (!open && el?.open) el.close();
  }, [open]);
  const read = useUsage(api, open ? { from: monthStart(today), to: today } : null);

  return (
    <dialog ref={dialog} className="settings-dialog usage-dialog" aria-labelledby={`${ids}-title`} onClose={onClose} data-testid="usage-dialog">
      <form className="settings-form" method="dialog" onSubmit={onClose}>
        <h2 id={`${ids}-title`}>Your usage</h2>
        {me ? <p className="usage-who">Counted for <Who me={me} /></p> : null}
        {read.state === 'loading' ? <p role="status">Reading your usage…</p> : null}
        {read.state === 'error' ? <p className="settings-error" role="alert">Could not read your usage: {read.message}</p> : null}
        {read.state === 'ok' ? <OwnUsage today={today} usage={read.usage} me={me} /> : null}
        <div className="settings-actions">
          <button type="submit" className="small-button primary">Done</button>
        </div>
      </form>
    </dialog>
  );
}

function OwnUsage({ today, usage, me }: { today: string; usage: Parameters<typeof ownSummary>[0]; me: MeJson | null }) {
  const summary = ownSummary(usage, today);
  const limits = limitStates(me?.limits, tokensOf(summary.today));
  const byModel = rollUp(usage.data, ['model']);
  return (
    <>
      <div className="usage-cards">
        <Totals title="Today (UTC)" totals={summary.today} testId="usage-today" />
        <Totals title="This month" totals={summary.month} testId="usage-month" />
      </div>
      <h3 className="settings-subtitle">Limits</h3>
      {limits.length === 0 ? (
        <p className="settings-hint" data-testid="usage-limits">No limits apply to you.</p>
      ) : (
        <ul className="usage-limits" data-testid="usage-limits">
          {limits.map((l) => (
            <li key={l.name}>
              <span>{l.label}</span>
              <span>
                {l.left !== undefined ? `${formatCount(l.left)} left of ${formatCount(l.limit)}` : formatCount(l.limit)}
              </span>
              {l.left !== undefined ? <meter min={0} max={l.limit} value={l.used} aria-label={`${l.label}: used`} /> : null}
            </li>
          ))}
        </ul>
      )}
      {byModel.length > 0 ? (
        <>
          <h3 className="settings-subtitle">This month by model</h3>
          <table className="usage-table compact" data-testid="usage-by-model">
            <thead>
              <tr><th scope="col" className="usage-text">Model</th><th scope="col">Requests</th><th scope="col">Tokens</th></tr>
            </thead>
            <tbody>
              {byModel.map((r) => (
                <tr key={r.model}><th scope="row">{r.model}</th><td>{formatCount(r.requests)}</td><td>{formatCount(tokensOf(r))}</td></tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </>
  );
}

function Totals({ title, totals, testId }: { title: string; totals: UsageTotals; testId: string }) {
  return (
    <section className="usage-card" data-testid={testId} aria-label={title}>
      <h3>{title}</h3>
      <p className="usage-big">{formatCount(tokensOf(totals))} <span>tokens</span></p>
      <p>
        {formatCount(totals.prompt_tokens)} in · {formatCount(totals.completion_tokens)} out · {formatCount(totals.requests)} {totals.requests === 1 ? 'request' : 'requests'}
      </p>
    </section>
  );
}
