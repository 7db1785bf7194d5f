import { readFileSync } from 'node:fs';

/**
 * The version of this Jarvis, from its package.json: two folders up from both
 * src/cli/ (run through tsx) and dist/cli/ (the installed `jarvis` bin).
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
