import { diagnoseCommand, DIAGNOSE_USAGE } from './diagnoseCommand.js';
import { keysCommand, KEYS_USAGE } from './keys/keysCommand.js';
import { matrixCommand, MATRIX_USAGE } from './matrix/matrixCommand.js';
import { pullCommand, PULL_USAGE } from './pull/pullCommand.js';
import { serveCommand, SERVE_USAGE } from './serveCommand.js';
import { usersCommand, USERS_USAGE } from './users/usersCommand.js';

/** A `jarvis` command: returns its exit code, writes its report to `out`. */
export interface Command {
  /** One line for `jarvis help`. */
  summary: string;
  /** Its options, printed by `jarvis <command> --help` and after a usage mistake. */
  usage: string;
  run: (argv: string[], out: (text: string) => void) => Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  serve: { summary: 'start the Jarvis server (the same as npm start), with --port and --host', usage: SERVE_USAGE, run: serveCommand },
  diagnose: { summary: 'check the system log (and, with --url, a running server) for hung, mixed or lost streams', usage: DIAGNOSE_USAGE, run: diagnoseCommand },
  matrix: { summary: 'run the streaming test case matrix against a running server', usage: MATRIX_USAGE, run: matrixCommand },
  keys: { summary: 'create, list and revoke the keys stored in the database (or, with --url, a running Jarvis)', usage: KEYS_USAGE, run: (argv, out) => keysCommand(argv, out) },
  users: { summary: "export or delete a person's data (docs/team.md): jarvis users export|delete <name>", usage: USERS_USAGE, run: usersCommand },
  pull: { summary: 'download a GGUF model into the models directory (resumable, with a progress bar)', usage: PULL_USAGE, run: pullCommand },
};

/** `jarvis help`: every command with one line. */
export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length), 'help'.length, '--version'.length) + 3;
  const line = (name: string, text: string) => `  ${name.padEnd(width)}${text}`;
  return [
    'Usage: jarvis <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => line(name, c.summary)),
    line('help', 'this list; `jarvis help <command>` shows the options of one command'),
    line('--version', 'print the version of this Jarvis'),
    '',
    'Run `jarvis <command> --help` for its options. Operations and diagnose: docs/operations.md.',
  ].join('\n');
}
