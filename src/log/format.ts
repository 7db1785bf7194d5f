// The system-log line format (SPEC §5): `<ISO time> <LEVEL> <event> key=value …`.
// Values that could break a grep (spaces, quotes, `=`, control characters, or
// anything outside a safe set) are written as JSON strings, so no input can
// forge a line or a key.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;

const SAFE_VALUE = /^[A-Za-z0-9._:/@+-]+$/;
const SAFE_KEY = /^[A-Za-z0-9_]+$/;

export function formatValue(value: LogValue): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return SAFE_VALUE.test(value) ? value : JSON.stringify(value);
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

/** Inverse of formatLine, for tools that read the log (tests, `jarvis diagnose`). */
export function parseLine(line: string): ParsedLine | undefined {
  const m = /^(\S+) ([A-Z]+) ([A-Za-z0-9_]+)(.*)$/.exec(line);
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  const rest = m[4] ?? '';
  const re = / ([A-Za-z0-9_]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  let f: RegExpExecArray | null;
  while ((f = re.exec(rest)) !== null) {
    const raw = f[2] ?? '';
    fields[f[1] as string] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  }
  return { time: m[1] as string, level: m[2] as string, event: m[3] as string, fields };
}
