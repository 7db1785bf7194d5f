// Everyone's usage, for an admin (docs/ui.md "Admin page"): per day, key and model over a
// range of UTC days, or rolled up by key, model or day, with the range's totals. Where the
// tokens come from shows per row: the model server's own count, or Jarvis's (docs/team.md).

import { useId, useState } from 'react';
import type { Api } from '../../../../src/client/api.js';
import { addDays, formatCount, formatDuration, rollUp, tokensOf, utcDay, type RolledRow, type UsageDimension } from '../../../../src/client/admin/usageSummary.js';
import { useUsage } from './useUsage.js';
import './usage.css';

const GROUPINGS: Array<{ value: string; label: string; by: UsageDimension[] }> = [
  { value: 'day-key-model', label: 'Day, key and model', by: ['day', 'key', 'model'] },
  { value: 'key', label: 'Key', by: ['key'] },
  { value: 'model', label: 'Model', by: ['model'] },
  { value: 'day', label: 'Day', by: ['day'] },
  { value: 'key-model', label: 'Key and model', by: ['key', 'model'] },
];

export function AllUsage({ api }: { api: Api }) {
  const ids = useId();
  const today = utcDay(new Date());
  const [from, setFrom] = useState(() => addDays(today, -6));
  const [to, setTo] = useState(today);
  const [grouping, setGrouping] = useState(GROUPINGS[0]!.value);
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(from) && /^\d{4}-\d{2}-\d{2}$/.test(to) && from <= to;
  const read = useUsage(api, valid ? { from, to } : null);
  const by = GROUPINGS.find((g) => g.value === grouping)!.by;
  const rows = read.state === 'ok' ? rollUp(read.usage.data, by) : [];

  return (
    <section className="admin-section" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Usage</h2>
      <div className="usage-controls">
        <div>
          <label htmlFor={`${ids}-from`}>From</label>
          <input id={`${ids}-from`} type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div>
          <label htmlFor={`${ids}-to`}>To</label>
          <input id={`${ids}-to`} type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} />
        </div>
        <div>
          <label htmlFor={`${ids}-per`}>Per</label>
          <select id={`${ids}-per`} value={grouping} onChange={(e) => setGrouping(e.target.value)}>
            {GROUPINGS.map((g) => <option key={g.value} value={g.value}>{g.label}</option>)}
          </select>
        </div>
        <button type="button" className="small-button" onClick={read.reload} disabled={!valid}>Refresh</button>
      </div>
      <p className="admin-note" role="status">
        {!valid ? 'Pick a range: From on or before To.' : read.state === 'loading' ? 'Reading usage…' : read.state === 'ok' ? `Days ${read.usage.from} to ${read.usage.to} (UTC).` : ''}
      </p>
      {read.state === 'error' ? <p className="settings-error" role="alert">Could not read the usage: {read.message}</p> : null}
      {read.state === 'ok' ? (
        <div className="table-scroll" role="region" aria-label="Usage table" tabIndex={0}>
          <table className="usage-table" data-testid="usage-table">
            <thead>
              <tr>
                {by.includes('day') ? <th scope="col" className="usage-text">Day</th> : null}
                {by.includes('key') ? <th scope="col" className="usage-text">Key</th> : null}
                {by.includes('model') ? <th scope="col" className="usage-text">Model</th> : null}
                <th scope="col">Requests</th>
                <th scope="col">Prompt tokens</th>
                <th scope="col">Completion tokens</th>
                <th scope="col">Tokens</th>
                <th scope="col">Stream time</th>
                <th scope="col">Counted by</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 ? (
                <tr><td colSpan={by.length + 6}>No use in these days.</td></tr>
              ) : (
                rows.map((r) => <UsageRow key={`${r.day}|${r.key_id}|${r.model}`} row={r} by={by} />)
              )}
            </tbody>
            <tfoot>
              <tr data-testid="usage-totals">
                <th scope="row" className="usage-text" colSpan={by.length}>Total</th>
                <td>{formatCount(read.usage.totals.requests)}</td>
                <td>{formatCount(read.usage.totals.prompt_tokens)}</td>
                <td>{formatCount(read.usage.totals.completion_tokens)}</td>
                <td>{formatCount(tokensOf(read.usage.totals))}</td>
                <td>{formatDuration(read.usage.totals.stream_ms)}</td>
                <td />
              </tr>
            </tfoot>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function UsageRow({ row, by }: { row: RolledRow; by: UsageDimension[] }) {
  return (
    <tr>
      {by.includes('day') ? <td className="usage-text">{row.day}</td> : null}
      {by.includes('key') ? <td className="usage-text"><KeyCell row={row} /></td> : null}
      {by.includes('model') ? <td className="usage-text">{row.model}</td> : null}
      <td>{formatCount(row.requests)}</td>
      <td>{formatCount(row.prompt_tokens)}</td>
      <td>{formatCount(row.completion_tokens)}</td>
      <td>{formatCount(tokensOf(row))}</td>
      <td>{formatDuration(row.stream_ms)}</td>
      <td>{sourceOf(row)}</td>
    </tr>
  );
}

function KeyCell({ row }: { row: RolledRow }) {
  const name = row.key_name || (row.key_id === '' ? 'No key (open Jarvis)' : row.key_id);
  return (
    <span className="usage-key" title={row.key_id || undefined}>
      {name}
      {row.owner && row.owner !== row.key_name ? <span className="usage-owner"> · {row.owner}</span> : null}
    </span>
  );
}

/** Whose count the tokens are: the model server's, Jarvis's, or both across the row's requests. */
function sourceOf(row: RolledRow): string {
  if (row.counted === 0) return 'model server';
  if (row.reported === 0) return 'Jarvis';
  return `model server (${formatCount(row.reported)}), Jarvis (${formatCount(row.counted)})`;
}
