// The live timeline at /ops (docs/observability.md "The live timeline"): the last minutes of streams,
// one lane per session, scrolling as records arrive from the ops feed; pausable.

import { useEffect, useState } from 'react';
import type { Api } from '../../../../src/client/api.js';
import { TimelineExplorer } from '../timeline/TimelineExplorer.js';
import { useOpsFeed } from './useOpsFeed.js';
import './ops.css';

/** The window's choices, in seconds. */
const WINDOWS = [30, 60, 300, 900];

const STATE_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  forbidden: 'Refused: the ops timeline is for admins',
  missing: 'This Jarvis has no ops feed',
} as const;

export function OpsPage({ api }: { api: Api }) {
  const feed = useOpsFeed(api);
  const [seconds, setSeconds] = useState(60);
  const [paused, setPaused] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (paused) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [paused]);
  const from = now - seconds * 1000;
  const controls = (
    <div className="tl-controls">
      <label>
        Window
        <select value={seconds} onChange={(e) => setSeconds(Number(e.target.value))}>
          {WINDOWS.map((s) => (
            <option key={s} value={s}>last {s < 60 ? `${s} s` : `${s / 60} min`}</option>
          ))}
        </select>
      </label>
      <button type="button" className="small-button" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
        {paused ? '▶ Resume' : '❚❚ Pause'}
      </button>
    </div>
  );
  return (
    <div className="ops-page">
      <header className="ops-header">
        <h1>Jarvis ops: live timeline</h1>
        <span className={`ops-state ops-state-${feed.state}`} role="status" title={feed.detail}>
          {STATE_TEXT[feed.state]}{paused ? ' (paused)' : ''}
        </span>
        <a className="small-button" href="/admin">Admin</a>
        <a className="small-button" href="/">Back to the chat</a>
      </header>
      <main className="ops-main">
        {feed.state === 'forbidden' || feed.state === 'missing' ? (
          <div className="unavailable-card" role="alert">
            <h2>{STATE_TEXT[feed.state]}</h2>
            <p>The live timeline reads the ops feed, which only Jarvis’s admins may open. Sign in with an admin key.</p>
          </div>
        ) : (
          <TimelineExplorer timeline={feed.timeline} version={feed.version} from={from} to={now} now={now} fresh={feed.fresh} controls={controls} />
        )}
      </main>
    </div>
  );
}
