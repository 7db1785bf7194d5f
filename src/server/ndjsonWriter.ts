import type { ServerResponse } from 'node:http';
import type { StatusEvent, TerminalEvent } from '../shared/events.js';
import type { EventWriter } from '../streams/eventWriter.js';
import { ResponseWriter } from './responseWriter.js';

/** Jarvis NDJSON (SPEC §3): one JSON event per line. */
export class NdjsonWriter extends ResponseWriter implements EventWriter {
  /** The ids are the same on every token line: encode them once. */
  private readonly tokenTail: string;

  constructor(res: ServerResponse, streamId: string, sessionId: string) {
    super(res);
    this.tokenTail = `,"stream_id":${JSON.stringify(streamId)},"session_id":${JSON.stringify(sessionId)}}\n`;
  }

  status(event: StatusEvent): void {
    this.write(JSON.stringify(event) + '\n');
  }

  token(text: string, seq: number): boolean {
    return this.write(`{"type":"token","text":${JSON.stringify(text)},"seq":${seq}${this.tokenTail}`);
  }

  terminal(event: TerminalEvent): void {
    this.finish(JSON.stringify(event) + '\n');
  }
}
