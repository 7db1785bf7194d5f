import type { ParsedLine } from '../../log/format.js';
import type { LineRef } from '../../shared/lifecycle.js';
import type { LineObserver } from './logFacts.js';
import { Samples, withRefs } from './samples.js';

/** How many runaways are remembered by stream (to join a late stop to its warning); the counts stay exact. */
const MAX_REMEMBERED = 1000;

interface Runaway {
  /** `slot 3 of http://…/v1` (llama.cpp server), `sequence 1 of tiny` (embedded). */
  where: string;
  line: string;
  at: LineRef | undefined;
  lateMs?: number;
  lateLine?: string;
  lateAt?: LineRef | undefined;
  gaveUp?: boolean;
}

/** What the log says about engines after a Stop (docs/backends.md "Stop at the engine"). */
export interface EngineStopFacts {
  /** engine_still_generating (a llama.cpp slot) or engine_stopped verdict=unconfirmed (the embedded engine): still generating past the cancel grace. */
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
 * Reads engine_still_generating, engine_stopped_late, engine_watch_gave_up (a
 * llama.cpp server's slots), engine_stopped (the embedded
 * engine's sequences) and the `cancel=` verdict of stream_end, as the log
 * analyzer walks the log.
 */
export class EngineStopAnalyzer implements LineObserver {
  private readonly byStream = new Map<string, Runaway>();
  private readonly order: string[] = [];
  private readonly facts = { stillGenerating: 0, stoppedLate: 0, gaveUp: 0, confirmed: 0, unconfirmed: 0, unconfirmedNoProbe: 0, unconfirmedSamples: new Samples() };

  constructor(private readonly sinceMs: number | undefined) {}

  observe(line: ParsedLine, raw: string, _instance: string, ms: number, at?: LineRef): void {
    if (this.sinceMs !== undefined && ms < this.sinceMs) return;
    switch (line.event) {
      case 'engine_still_generating':
        return this.runaway(line.fields.stream ?? '', `slot ${line.fields.slot ?? '?'} of ${line.fields.upstream ?? '?'}`, raw, at);
      case 'engine_stopped':
        if (line.fields.verdict === 'unconfirmed') this.runaway(line.fields.trace ?? '', line.fields.where ?? 'the embedded engine', raw, at);
        return;
      case 'engine_stopped_late': {
        this.facts.stoppedLate++;
        const r = this.byStream.get(line.fields.stream ?? line.fields.trace ?? '');
        if (r) Object.assign(r, { lateMs: Number(line.fields.ms), lateLine: raw, lateAt: at });
        return;
      }
      case 'engine_watch_gave_up': {
        this.facts.gaveUp++;
        const r = this.byStream.get(line.fields.stream ?? '');
        if (r) Object.assign(r, { gaveUp: true, lateLine: raw, lateAt: at });
        return;
      }
      case 'stream_end':
        if (line.fields.cancel === 'confirmed') this.facts.confirmed++;
        if (line.fields.cancel !== 'unconfirmed') return;
        this.facts.unconfirmed++;
        // `no_probe`: the backend has no way to ask its engine; not a finding by itself.
        if (line.fields.cancel_how === 'no_probe') this.facts.unconfirmedNoProbe++;
        else this.facts.unconfirmedSamples.add(withRefs({ text: `${line.fields.trace ?? '?'}: cancel unconfirmed (${line.fields.cancel_how ?? '?'}${line.fields.slot ? `, slot ${line.fields.slot}` : ''})`, trace: line.fields.trace, session: line.fields.session, lines: [raw] }, at));
        return;
    }
  }

  private runaway(stream: string, where: string, raw: string, at: LineRef | undefined): void {
    this.facts.stillGenerating++;
    if (this.byStream.size < MAX_REMEMBERED && !this.byStream.has(stream)) {
      this.byStream.set(stream, { where, line: raw, at });
      this.order.push(stream);
    }
  }

  finish(): EngineStopFacts {
    const runaways = new Samples();
    for (const stream of this.order) {
      const r = this.byStream.get(stream) as Runaway;
      const after = r.lateMs !== undefined && Number.isFinite(r.lateMs) ? `stopped ${(r.lateMs / 1000).toFixed(1)} s after the Stop` : r.gaveUp ? 'still processing when Jarvis stopped watching' : 'no later line says it stopped';
      runaways.add(withRefs({ text: `stream ${stream}: ${r.where} kept generating after the Stop (${after})`, trace: stream, lines: r.lateLine ? [r.line, r.lateLine] : [r.line] }, r.at, ...(r.lateLine ? [r.lateAt] : [])));
    }
    return { ...this.facts, runaways };
  }
}
