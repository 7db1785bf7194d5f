// The timeline itself: a time axis, then one row per lane with its streams as bars and their marks.
// Windowed: only the rows in view (plus a few) are in the DOM, so thousands of streams stay fast.

import { useLayoutEffect, useRef, useState } from 'react';
import { formatMs, type Lane, type StreamBar } from '../../../../src/client/timeline/index.js';
import { axisTicks, tickLabel } from './axis.js';
import { MARK_LOOK, OUTCOME_LOOK, clock } from './outcomes.js';

export const ROW_HEIGHT = 30;
const LABEL_WIDTH = 220;
const OVERSCAN = 6;

export interface TimelineViewProps {
  lanes: Lane[];
  from: number;
  to: number;
  /** Where "now" is (live): open bars reach it. */
  now: number;
  /** Content width as a multiple of the visible width (zoom; 1 = fit). */
  zoom?: number;
  selected?: string;
  /** Streams a finding is about. */
  flagged: ReadonlySet<string>;
  onSelect(id: string): void;
}

export function TimelineView({ lanes, from, to, now, zoom = 1, selected, flagged, onSelect }: TimelineViewProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600, width: 900 });
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setView({ top: el.scrollTop, height: el.clientHeight, width: el.clientWidth });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    el.addEventListener('scroll', measure, { passive: true });
    return () => {
      observer.disconnect();
      el.removeEventListener('scroll', measure);
    };
  }, []);
  // Bring the selected stream's lane into view (a finding clicked, a filter changed).
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !selected) return;
    const row = lanes.findIndex((lane) => lane.streams.some((s) => s.id === selected));
    if (row < 0) return;
    const y = (row + 1) * ROW_HEIGHT;
    if (y < el.scrollTop + ROW_HEIGHT || y > el.scrollTop + el.clientHeight - ROW_HEIGHT) el.scrollTop = y - el.clientHeight / 2;
  }, [selected, lanes]);

  const pick = (target: EventTarget) => {
    const id = target instanceof Element ? target.closest<HTMLElement>('[data-stream]')?.dataset.stream : undefined;
    if (id) onSelect(id);
  };
  const trackWidth = Math.max(200, (view.width - LABEL_WIDTH - 16) * zoom);
  const span = Math.max(1, to - from);
  const x = (t: number) => ((t - from) / span) * trackWidth;
  const first = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(lanes.length, Math.ceil((view.top + view.height) / ROW_HEIGHT) + OVERSCAN);

  return (
    <div className="tl-scroller" ref={scroller} role="region" aria-label="Stream timeline, one lane per session" tabIndex={0}>
      <div className="tl-content" style={{ width: LABEL_WIDTH + trackWidth + 8, height: (lanes.length + 1) * ROW_HEIGHT }}>
        <Axis from={from} to={to} width={trackWidth} x={x} />
        {lanes.length === 0 && <p className="tl-empty">No streams in this window.</p>}
        <ul className="tl-rows" aria-label={`${lanes.length} lanes`}>
          {lanes.slice(first, last).map((lane, i) => (
            <li key={lane.key} className="tl-row" style={{ top: (first + i + 1) * ROW_HEIGHT, height: ROW_HEIGHT }}>
              <button type="button" className="tl-lane-label" title={laneTitle(lane)} style={{ width: LABEL_WIDTH }} onClick={() => onSelect(lane.streams.at(-1)!.id)}>
                {lane.instance && <span className="tl-instance">{lane.instance}</span>}
                {lane.session || '(no session)'}
                <span className="visually-hidden">, {lane.streams.length} streams: select the latest</span>
              </button>
              {/* Bars are pointer targets only (too small for keyboard and touch targets at this density): the lane's button and the detail panel's Earlier/Later reach each stream by keyboard. */}
              <span className="tl-track" style={{ left: LABEL_WIDTH, width: trackWidth }} onClick={(e) => pick(e.target)} aria-hidden="true">
                {lane.streams.map((bar) => (
                  <Bar key={bar.id} bar={bar} x={x} from={from} to={to} now={now} selected={bar.id === selected} flagged={flagged.has(bar.id)} />
                ))}
              </span>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

function Axis({ from, to, width, x }: { from: number; to: number; width: number; x(t: number): number }) {
  const { step, ticks } = axisTicks(from, to, width);
  return (
    <div className="tl-axis" style={{ height: ROW_HEIGHT, left: LABEL_WIDTH, width }} aria-hidden="true">
      {ticks.map((t) => (
        <span key={t} className="tl-tick" style={{ left: x(t) }}>
          {tickLabel(t, step)}
        </span>
      ))}
    </div>
  );
}

function Bar({ bar, x, from, to, now, selected, flagged }: {
  bar: StreamBar;
  x(t: number): number;
  from: number;
  to: number;
  now: number;
  selected: boolean;
  flagged: boolean;
}) {
  const end = bar.end ?? now;
  if (end < from || bar.start > to) return null;
  const left = x(Math.max(bar.start, from));
  const width = Math.max(6, x(Math.min(end, to)) - left);
  const look = OUTCOME_LOOK[bar.outcome];
  const label = `Stream ${bar.id}, ${look.label}${bar.errorCode ? ` (${bar.errorCode})` : ''}, ${bar.end ? formatMs(bar.end - bar.start) : 'open'}${flagged ? ', flagged' : ''}`;
  return (
    <>
      <span className={`tl-bar outcome-${bar.outcome}${selected ? ' selected' : ''}${flagged ? ' flagged' : ''}`} style={{ left, width }} data-stream={bar.id} title={label}>
        <span className="tl-glyph" aria-hidden="true">{flagged ? '⚠' : look.glyph}</span>
        {width > 90 && <span className="tl-bar-text">{look.label}</span>}
      </span>
      {bar.marks.map((mark) => {
        if (mark.t < from || mark.t > to) return null;
        const look = MARK_LOOK[mark.kind];
        if (mark.until !== undefined) {
          const l = x(Math.max(mark.t, from));
          return <span key={mark.kind} className={`tl-mark tl-span mark-${mark.kind}`} style={{ left: l, width: Math.max(2, x(Math.min(mark.until, to)) - l) }} title={`${look.label}: ${mark.label}`} />;
        }
        return (
          <span key={mark.kind} className={`tl-mark mark-${mark.kind}`} style={{ left: x(mark.t) }} title={`${look.label} at ${clock(mark.t, true)}: ${mark.label}`}>
            {look.glyph}
          </span>
        );
      })}
    </>
  );
}

function laneTitle(lane: Lane): string {
  return [lane.instance && `instance ${lane.instance}`, `session ${lane.session}`, lane.apiKey && `key ${lane.apiKey}`, `${lane.streams.length} streams`].filter(Boolean).join(', ');
}

