import type { ServerResponse } from 'node:http';
import type { StatusEvent, TerminalEvent, ToolCall, ToolCallEvent } from '../../../shared/events.js';
import type { EventWriter } from '../../../streams/eventWriter.js';
import type { TokenLogprob } from '../../../shared/logprobs.js';
import type { StreamTiming } from '../../../streams/streamTiming.js';
import { ResponseWriter } from '../responseWriter.js';

/** Jarvis NDJSON (docs/api.md): one JSON event per line. */
export class NdjsonWriter extends ResponseWriter implements EventWriter {
  /** The ids are the same on every token line: encode them once. */
  private readonly tail: string;

  constructor(
    res: ServerResponse,
    private readonly streamId: string,
    private readonly sessionId: string,
    timing?: StreamTiming,
  ) {
    super(res, timing);
    this.tail = `,"stream_id":${JSON.stringify(streamId)},"session_id":${JSON.stringify(sessionId)}}\n`;
  }

  status(event: StatusEvent): void {
    // The first line waits for the end of this turn: the upstream request goes out first.
    this.writeSoon(JSON.stringify(event) + '\n');
  }

  token(text: string, seq: number, logprobs?: TokenLogprob[]): boolean {
    if (logprobs !== undefined) return this.write(`{"type":"token","text":${JSON.stringify(text)},"seq":${seq},"logprobs":${JSON.stringify(logprobs)}${this.tail}`);
    return this.write(`{"type":"token","text":${JSON.stringify(text)},"seq":${seq}${this.tail}`);
  }

  reasoning(text: string, seq: number): boolean {
    return this.write(`{"type":"reasoning","text":${JSON.stringify(text)},"seq":${seq}${this.tail}`);
  }

  toolCall(call: ToolCall, index: number): boolean {
    const event: ToolCallEvent = { type: 'tool_call', index, id: call.id, name: call.name, arguments: call.arguments, stream_id: this.streamId, session_id: this.sessionId };
    return this.write(JSON.stringify(event) + '\n');
  }

  terminal(event: TerminalEvent): void {
    this.finish(JSON.stringify(event) + '\n');
  }
}
