// The system-log line format (docs/operations.md): `<ISO time> <LEVEL> <event> key=value …`,
// a grep contract (docs/operations.md counts `grep -c stream_end`). A value is written bare
// when it is plain (letters, digits, `._:/@+-`); any other value is written as a JSON
// string that holds printable ASCII only, with `=` and everything outside printable
// ASCII escaped (`\u003d`, `\u2028`, `\n`…): no input can end a line (for grep,
// logrotate, or a reader that also breaks at U+2028, U+0085, \v, \f), nor read as
// another field. A value holding an event's name (src/log/events.ts) has its `_`
// escaped too, so an event name in the log is always the line's own event.
// docs/security.md "A log that cannot be forged" has the scheme and its reasons.
import { LOG_EVENTS } from './events.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;

const SAFE_VALUE = /^[A-Za-z0-9._:/@+-]+$/;
const SAFE_KEY = /^[A-Za-z0-9_]+$/;
// Kept as is inside quotes: printable ASCII but `"`, `=` and `\`. Everything else is escaped
// (a UTF-16 code unit at a time, so a lone surrogate comes back exactly as well).
const ESCAPED = /[^\x20\x21\x23-\x3c\x3e-\x5b\x5d-\x7e]/g;
// The same, `_` escaped as well: for a value that holds an event's name.
const ESCAPED_WITH_UNDERSCORE = /[^\x20\x21\x23-\x3c\x3e-\x5b\x5d\x5e\x60-\x7e]/g;

/**
 * Two adjacent words of any event name, joined by `_` (`stream_end`, `prev_stream`,
 * `registry_pop`…), case-insensitively: a value holding one could match a grep for an
 * event (or a part of one, like `grep stream_registry_pop`), so its `_` are escaped.
 */
const EVENT_WORDS = new RegExp(
  [...new Set(LOG_EVENTS.flatMap((name) => name.split('_').slice(1).map((word, i) => `${name.split('_')[i]}_${word}`)))].join('|'),
  'i',
);

function escapeChar(c: string): string {
  switch (c) {
    case '"':
      return '\\"';
    case '\\':
      return '\\\\';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

function quote(value: string, underscore: boolean): string {
  return `"${value.replace(underscore ? ESCAPED_WITH_UNDERSCORE : ESCAPED, escapeChar)}"`;
}

export function formatValue(value: LogValue): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : quote(String(value), false);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  // Every event name has an `_`: a value without one cannot hold any (the common case, no regex).
  const eventWords = value.includes('_') && EVENT_WORDS.test(value);
  return SAFE_VALUE.test(value) && !eventWords ? value : quote(value, eventWords);
}

export function formatLine(time: Date, level: LogLevel, event: string, fields: LogFields): string {
  let line = `${time.toISOString()} ${level.toUpperCase()} ${SAFE_KEY.test(event) ? event : 'invalid_event'}`;
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    line += ` ${SAFE_KEY.test(key) ? key : 'invalid_key'}=${formatValue(value)}`;
  }
  return line + '\n';
}

export interface ParsedLine {
  time: string;
  level: string;
  event: string;
  fields: Record<string, string>;
}

// `[\s\S]`, not `.`: a line another writer (or an older Jarvis) left with a U+2028 in it still parses.
const LINE = /^(\S+) ([A-Z]+) ([A-Za-z0-9_]+)([\s\S]*)$/;
const FIELD = / ([A-Za-z0-9_]+)=("(?:[^"\\]|\\[\s\S])*"|[^ ]*)/g;

function decode(raw: string): string {
  if (!raw.startsWith('"')) return raw;
  try {
    return JSON.parse(raw) as string;
  } catch {
    // A line cut short (a full disk, a crash mid-write): keep the text it has.
    return raw;
  }
}

/** Inverse of formatLine, for tools that read the log (tests, `jarvis diagnose`). */
export function parseLine(line: string): ParsedLine | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  const rest = m[4] ?? '';
  for (const f of rest.matchAll(FIELD)) fields[f[1] as string] = decode(f[2] ?? '');
  return { time: m[1] as string, level: m[2] as string, event: m[3] as string, fields };
}
