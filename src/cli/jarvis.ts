#!/usr/bin/env node
import { diagnoseCommand, DIAGNOSE_USAGE } from './diagnoseCommand.js';
import { UsageError } from './args.js';
import { matrixCommand, MATRIX_USAGE } from './matrix/matrixCommand.js';

const USAGE = `Usage: jarvis <command> [options]

Commands:
  diagnose   walk the streaming-stability runbook over the log (and a live server)
  matrix     run the runbook's test case matrix against a live server

Run \`jarvis <command> --help\` for its options. The server itself: npm start.`;

const COMMANDS: Record<string, (argv: string[], out: (text: string) => void) => Promise<number>> = {
  diagnose: diagnoseCommand,
  matrix: matrixCommand,
};

/** Exit codes: 0 healthy/passed, 1 problems found, 2 could not run (usage, unreachable, crash). */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`jarvis: unknown command ${JSON.stringify(command)}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await run(rest, (text) => process.stdout.write(text));
  } catch (err) {
    // parseArgs reports unknown or malformed flags as TypeErrors with ERR_PARSE_ARGS_* codes.
    const usage = err instanceof UsageError || (err as NodeJS.ErrnoException)?.code?.startsWith?.('ERR_PARSE_ARGS');
    process.stderr.write(`jarvis ${command}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (usage) process.stderr.write(`\n${command === 'diagnose' ? DIAGNOSE_USAGE : MATRIX_USAGE}\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Let stdout drain (a pipe to `less` or a file) before exiting with the code.
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`jarvis: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
