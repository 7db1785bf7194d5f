/**
 * llama.cpp server's `GET /slots` (docs/backends.md "Stop at the engine"): one entry
 * per slot, of which Jarvis reads `id`, `id_task`, `is_processing` and
 * `next_token.n_decoded` (the shape documented in llama.cpp's
 * tools/server/README.md "GET /slots" and built in tools/server/server-context.cpp).
 * The endpoint is on by default; a server started with `--no-slots` answers 501
 * (`not_supported_error`), and a server that is not llama.cpp answers 404: both
 * mean "no probe".
 */

/** What Jarvis reads of one slot. */
export interface SlotView {
  id: number;
  /** The task the slot runs or ran last (-1: none yet). */
  idTask: number;
  processing: boolean;
  decoded: number;
}

/** Which of `ours` still run the same task in `now` (a slot that went idle, or took another task, has let it go). */
export function stillBusy(ours: SlotView[], now: SlotView[]): SlotView[] {
  return ours.filter((o) => now.some((s) => s.id === o.id && s.processing && s.idTask === o.idTask));
}

export type SlotsAnswer = { kind: 'slots'; slots: SlotView[] } | { kind: 'absent'; status: number };

/** Asking again after "no /slots": the server may have been restarted with it. */
const RECHECK_ABSENT_MS = 5 * 60_000;
/** One answer must be small; a long list of slots is still well under this. */
const MAX_BODY_CHARS = 4 << 20;

/** Where `/slots` lives for an OpenAI base URL: beside `/v1` (`http://host:8080/v1` → `http://host:8080/slots`). */
export function slotsUrl(baseUrl: string): URL {
  const root = baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  return new URL(`${root}/slots`);
}

function parseSlots(body: unknown): SlotView[] | undefined {
  if (!Array.isArray(body)) return undefined;
  const slots: SlotView[] = [];
  for (const raw of body as Array<Record<string, unknown>>) {
    if (!raw || typeof raw !== 'object' || typeof raw.id !== 'number') return undefined;
    const next = raw.next_token as Record<string, unknown> | Array<Record<string, unknown>> | undefined;
    // Older servers send next_token as an object, some builds as a one-element array.
    const first = Array.isArray(next) ? next[0] : next;
    slots.push({
      id: raw.id,
      idTask: typeof raw.id_task === 'number' ? raw.id_task : -1,
      processing: raw.is_processing === true,
      decoded: typeof first?.n_decoded === 'number' ? first.n_decoded : 0,
    });
  }
  return slots;
}

/**
 * One upstream's `/slots`, with the answer to "does it serve them" cached: a
 * 404/501 is remembered for RECHECK_ABSENT_MS, so a server without slots costs one
 * request per few minutes, not one per stream.
 */
export class SlotsClient {
  readonly url: URL;
  private absentUntil = 0;
  private known: boolean | undefined;
  private llamaCppSeen = false;

  constructor(
    baseUrl: string,
    private readonly headers: () => Record<string, string>,
  ) {
    this.url = slotsUrl(baseUrl);
  }

  /** False while a recent answer said there is no `/slots`: skip the probe. */
  get worthAsking(): boolean {
    return this.known !== false || Date.now() >= this.absentUntil;
  }

  /**
   * Whether the server is llama.cpp's: it answered slots, or refused them as only
   * llama-server does (501 `not_supported_error`, started without `--slots`).
   */
  get llamaCpp(): boolean {
    return this.llamaCppSeen;
  }

  /** Whether the last answer had slots (undefined before the first). */
  get available(): boolean | undefined {
    return this.known;
  }

  /** Throws on a network failure, a timeout or an answer that is not a slot list. */
  async read(timeoutMs: number, signal?: AbortSignal): Promise<SlotsAnswer> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await fetch(this.url, { headers: this.headers(), signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
    if (res.status === 404 || res.status === 501 || res.status === 405) {
      if (res.status === 501) this.llamaCppSeen = /not_supported_error/.test(await res.text().catch(() => ''));
      else await res.body?.cancel();
      this.known = false;
      this.absentUntil = Date.now() + RECHECK_ABSENT_MS;
      return { kind: 'absent', status: res.status };
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`${this.url.href} answered HTTP ${res.status}`);
    }
    const text = await res.text();
    const slots = text.length <= MAX_BODY_CHARS ? parseSlots(JSON.parse(text)) : undefined;
    if (!slots) throw new Error(`${this.url.href} answered without a slot list`);
    this.known = true;
    this.llamaCppSeen = true;
    return { kind: 'slots', slots };
  }

  /** Like read, but never throws: undefined when it failed. */
  async tryRead(timeoutMs: number, signal?: AbortSignal): Promise<SlotsAnswer | undefined> {
    try {
      return await this.read(timeoutMs, signal);
    } catch {
      return undefined;
    }
  }
}
