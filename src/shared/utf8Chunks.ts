// Decodes UTF-8 that arrives in chunks. `new TextDecoder().decode(bytes, { stream: true })`
// does the same, but a streaming TextDecoder holds a converter of its own outside the JS
// heap (about 1.2 KB in Node 20 and 24): one per open upstream stream. Here nothing but
// the unfinished character (at most 3 bytes, rarely any) is kept per stream, and one
// decoder shared by all decodes whole characters (docs/benchmark.md "Scale").

const DECODER = new TextDecoder('utf-8');

export class Utf8Chunks {
  /** The bytes of a character the last chunk ended in the middle of. */
  private held: Uint8Array | undefined;

  /** The text of `bytes`; with `stream`, an unfinished last character waits for the next chunk (as TextDecoder's `stream`). */
  decode(bytes: Uint8Array = new Uint8Array(0), options?: { stream?: boolean }): string {
    let input = bytes;
    if (this.held) {
      input = new Uint8Array(this.held.length + bytes.length);
      input.set(this.held);
      input.set(bytes, this.held.length);
      this.held = undefined;
    }
    if (!options?.stream) return DECODER.decode(input);
    const whole = completeLength(input);
    if (whole < input.length) this.held = input.slice(whole);
    return whole === 0 ? '' : DECODER.decode(whole === input.length ? input : input.subarray(0, whole));
  }
}

/**
 * How many bytes end on a character's end: all of them, unless the last character
 * is cut (its lead byte announces more bytes than follow). Invalid bytes count as
 * whole: the shared decoder replaces them with U+FFFD, as a streaming one would.
 */
function completeLength(bytes: Uint8Array): number {
  const end = bytes.length;
  const stop = Math.max(0, end - 4);
  let lead = end - 1;
  while (lead >= stop && (bytes[lead]! & 0xc0) === 0x80) lead--;
  if (lead < stop) return end;
  const b = bytes[lead]!;
  const size = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 1;
  return end - lead < size ? lead : end;
}
