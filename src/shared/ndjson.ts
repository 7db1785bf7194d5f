// Splits a byte stream into lines. Shared by the Ollama client (server) and the
// web UI's stream reader: both must survive lines, and UTF-8 characters, split
// across chunks, and many lines in one chunk.

import { Utf8Chunks } from './utf8Chunks.js';

export class LineTooLongError extends Error {
  constructor(limit: number) {
    super(`line longer than ${limit} bytes`);
    this.name = 'LineTooLongError';
  }
}

export class LineSplitter {
  private readonly decoder = new Utf8Chunks();
  private rest = '';

  /** maxLineLength bounds the buffer held for one unterminated line. */
  constructor(private readonly maxLineLength = 1 << 20) {}

  /** Returns the complete, non-empty lines that this chunk finished. */
  push(chunk: Uint8Array): string[] {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    if (this.rest.length > this.maxLineLength) throw new LineTooLongError(this.maxLineLength);
    return nonEmpty(lines);
  }

  /** Flushes what is left once the stream has ended. */
  end(): string[] {
    const last = this.rest + this.decoder.decode();
    this.rest = '';
    return nonEmpty([last]);
  }
}

function nonEmpty(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (trimmed.trim() !== '') out.push(trimmed);
  }
  return out;
}
