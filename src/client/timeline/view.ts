// What the pages draw from the model: lanes of the streams that pass the filters. Computed on demand
// (once per frame at most), never per record.

import type { Timeline } from './timeline.js';
import type { Lane, Outcome, StreamBar, TimelineFilter } from './types.js';

export function matches(bar: StreamBar, filter: TimelineFilter): boolean {
  if (filter.session && !bar.session.includes(filter.session)) return false;
  if (filter.key && bar.key !== filter.key) return false;
  if (filter.model && bar.model !== filter.model) return false;
  if (filter.upstream && bar.upstream !== filter.upstream) return false;
  if (filter.outcomes && filter.outcomes.size > 0 && !filter.outcomes.has(bar.outcome)) return false;
  return true;
}

/**
 * The lanes: one per session, or per instance and session once records came from several instances
 * (cluster mode: a session's streams handed over between instances show on each one's lane).
 * Sorted by their first stream's start; streams in a lane by start.
 */
export function lanesOf(timeline: Timeline, filter: TimelineFilter = {}): Lane[] {
  const cluster = timeline.instances().length > 1;
  const lanes = new Map<string, Lane>();
  for (const bar of timeline.all()) {
    if (!matches(bar, filter)) continue;
    const key = cluster ? `${bar.instance}\u0000${bar.session}` : bar.session;
    let lane = lanes.get(key);
    if (!lane) {
      lane = { key, session: bar.session, instance: cluster ? bar.instance : '', apiKey: bar.key, streams: [] };
      lanes.set(key, lane);
    } else if (lane.apiKey !== bar.key) lane.apiKey = undefined;
    lane.streams.push(bar);
  }
  const list = [...lanes.values()];
  for (const lane of list) lane.streams.sort((a, b) => a.start - b.start);
  list.sort((a, b) => a.streams[0]!.start - b.streams[0]!.start || a.key.localeCompare(b.key));
  return list;
}

/** The values a filter can take (for the pages' drop-downs). */
export function filterChoices(timeline: Timeline): { keys: string[]; models: string[]; upstreams: string[]; outcomes: Outcome[] } {
  const keys = new Set<string>();
  const models = new Set<string>();
  const upstreams = new Set<string>();
  const outcomes = new Set<Outcome>();
  for (const bar of timeline.all()) {
    if (bar.key) keys.add(bar.key);
    if (bar.model) models.add(bar.model);
    if (bar.upstream) upstreams.add(bar.upstream);
    outcomes.add(bar.outcome);
  }
  const sorted = (set: Set<string>) => [...set].sort();
  return { keys: sorted(keys), models: sorted(models), upstreams: sorted(upstreams), outcomes: [...outcomes].sort() };
}

/** The time range the streams cover, epoch ms (open ones reach `now`). */
export function rangeOf(timeline: Timeline, now: number = timeline.newest): { from: number; to: number } {
  let from = Infinity;
  let to = -Infinity;
  for (const bar of timeline.all()) {
    if (bar.start < from) from = bar.start;
    const end = bar.end ?? now;
    if (end > to) to = end;
  }
  if (from === Infinity) return { from: now - 60_000, to: now };
  return { from, to: Math.max(to, from + 1000) };
}
