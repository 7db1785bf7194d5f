import type { ParsedLine } from '../../log/format.js';
import type { LineObserver } from './logFacts.js';
import { Samples } from './samples.js';

/** How many runaways are remembered by stream (to join a late stop to its warning); the counts stay exact. */
const MAX_REMEMBERED = 1000;

interface Runaway {
  slot: string;
  upstream: string;
  line: string;
  lateMs?: number;
  lateLine?: string;
  gaveUp?: boolean;
}

/** What the log says about engines after a Stop (docs/backends.md "Stop at the engine"). */
export interface EngineStopFacts {
  /** engine_still_generating: a slot still processing past the cancel grace. */
  stillGenerating: number;
  /** Of those, the ones whose engine_stopped_late came, and the ones Jarvis gave up on. */
  stoppedLate: number;
  gaveUp: number;
  /** The first few runaways, each with its late stop (or give-up) when the log has one. */
  runaways: Samples;
  /** stream_end cancel=confirmed / cancel=unconfirmed, and the unconfirmed ones whose engine gives no way to check (`no_probe`). */
  confirmed: number;
  unconfirmed: number;
  unconfirmedNoProbe: number;
  unconfirmedSamples: Samples;
}

/**
 * Reads engine_still_generating, engine_stopped_late, engine_watch_gave_up and
 * the `cancel=` verdict of stream_end, as the log analyzer walks the log.
 */
export class EngineStopAnalyzer implements LineObserver {
  private readonly byStream = new Map<string, Runaway>();
  private readonly order: string[] = [];
  private readonly facts = { stillGenerating: 0, stoppedLate: 0, gaveUp: 0, confirmed: 0, unconfirmed: 0, unconfirmedNoProbe: 0, unconfirmedSamples: new Samples() };

  constructor(private readonly sinceMs: number | undefined) {}

  observe(line: ParsedLine, raw: string, _instance: string, ms: number): void {
    if (this.sinceMs !== undefined && ms < this.sinceMs) return;
    const stream = line.fields.stream ?? '';
    switch (line.event) {
      case 'engine_still_generating':
        this.facts.stillGenerating++;
        if (this.byStream.size < MAX_REMEMBERED && !this.byStream.has(stream)) {
          this.byStream.set(stream, { slot: line.fields.slot ?? '?', upstream: line.fields.upstream ?? '?', line: raw });
          this.order.push(stream);
        }
        return;
      case 'engine_stopped_late': {
        this.facts.stoppedLate++;
        const r = this.byStream.get(stream);
        if (r) Object.assign(r, { lateMs: Number(line.fields.ms), lateLine: raw });
        return;
      }
      case 'engine_watch_gave_up': {
        this.facts.gaveUp++;
        const r = this.byStream.get(stream);
        if (r) Object.assign(r, { gaveUp: true, lateLine: raw });
        return;
      }
      case 'stream_end':
        if (line.fields.cancel === 'confirmed') this.facts.confirmed++;
        if (line.fields.cancel !== 'unconfirmed') return;
        this.facts.unconfirmed++;
        // The verdict's reason is on the line (its field name aside): `no_probe` means the engine has no way to be asked.
        if (Object.values(line.fields).includes('no_probe')) this.facts.unconfirmedNoProbe++;
        else this.facts.unconfirmedSamples.add({ text: `${line.fields.trace ?? '?'}: cancel unconfirmed`, trace: line.fields.trace, session: line.fields.session, lines: [raw] });
        return;
    }
  }

  finish(): EngineStopFacts {
    const runaways = new Samples();
    for (const stream of this.order) {
      const r = this.byStream.get(stream) as Runaway;
      const after = r.lateMs !== undefined && Number.isFinite(r.lateMs) ? `stopped ${(r.lateMs / 1000).toFixed(1)} s after the Stop` : r.gaveUp ? 'still processing when Jarvis stopped watching' : 'no later line says it stopped';
      runaways.add({ text: `stream ${stream}: slot ${r.slot} of ${r.upstream} kept generating after the Stop (${after})`, trace: stream, lines: r.lateLine ? [r.line, r.lateLine] : [r.line] });
    }
    return { ...this.facts, runaways };
  }
}
