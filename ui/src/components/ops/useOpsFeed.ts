// Feeds the page's Timeline from the ops feed and re-renders at most once a frame, however fast the
// records come (docs/observability.md "The live timeline").

import { useEffect, useRef, useState } from 'react';
import type { Api } from '../../../../src/client/api.js';
import { followOpsFeed, type OpsFeedState } from '../../../../src/client/timeline/opsFeed.js';
import { Timeline, type Finding } from '../../../../src/client/timeline/index.js';

/** How long a new finding stays highlighted. */
const FRESH_MS = 15_000;

export interface OpsFeed {
  timeline: Timeline;
  version: number;
  state: OpsFeedState;
  detail?: string;
  fresh: ReadonlySet<string>;
}

export function useOpsFeed(api: Api): OpsFeed {
  const [timeline] = useState(() => new Timeline({ keepMs: 15 * 60_000, maxStreams: 5000, ...boundsFromUrl() }));
  const [version, setVersion] = useState(0);
  const [state, setState] = useState<{ state: OpsFeedState; detail?: string }>({ state: 'connecting' });
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const frame = useRef<number | undefined>(undefined);

  useEffect(() => {
    const controller = new AbortController();
    const timers: ReturnType<typeof setTimeout>[] = [];
    const changed = () => {
      if (frame.current !== undefined) return;
      frame.current = requestAnimationFrame(() => {
        frame.current = undefined;
        setVersion(timeline.version);
      });
    };
    const unsubscribe = timeline.onFinding((finding: Finding) => {
      setFresh((prev) => new Set(prev).add(finding.id));
      const unmark = () =>
        setFresh((prev) => {
          const next = new Set(prev);
          next.delete(finding.id);
          return next;
        });
      timers.push(setTimeout(unmark, FRESH_MS));
    });
    void followOpsFeed(api, controller.signal, {
      onRecord(record) {
        timeline.add(record);
        changed();
      },
      onReset() {
        timeline.reset();
        changed();
      },
      onState(next, detail) {
        setState({ state: next, detail });
      },
    });
    // The time checks (a stream without end, an instance gone silent) need a clock, not a record.
    const ticker = setInterval(() => {
      timeline.tick(Date.now());
      changed();
    }, 1000);
    return () => {
      controller.abort();
      clearInterval(ticker);
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      if (frame.current !== undefined) cancelAnimationFrame(frame.current);
      frame.current = undefined;
    };
  }, [api, timeline]);

  return { timeline, version, state: state.state, detail: state.detail, fresh };
}

/**
 * `/ops?no_end_s=30&slow_cancel_s=2`: when a stream without end, and a cancel, count as too long
 * (docs/observability.md "The live timeline"; defaults: 2 minutes, 3 seconds).
 */
function boundsFromUrl(): { noEndMs?: number; slowCancelMs?: number } {
  const params = new URLSearchParams(globalThis.location?.search ?? '');
  const seconds = (name: string) => {
    const value = Number(params.get(name));
    return Number.isFinite(value) && value > 0 ? value * 1000 : undefined;
  };
  const bounds: { noEndMs?: number; slowCancelMs?: number } = {};
  const noEnd = seconds('no_end_s');
  const slowCancel = seconds('slow_cancel_s');
  if (noEnd !== undefined) bounds.noEndMs = noEnd;
  if (slowCancel !== undefined) bounds.slowCancelMs = slowCancel;
  return bounds;
}
