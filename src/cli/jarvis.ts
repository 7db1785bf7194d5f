#!/usr/bin/env node
import { UsageError } from './args.js';
import { COMMANDS, usage } from './commands.js';
import { packageVersion } from './version.js';

/** Exit codes: 0 healthy/passed, 1 problems found, 2 could not run (usage, unreachable, crash). */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const about = command === 'help' && rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    if (command === 'help' && rest[0] !== undefined && !about) return unknown(rest[0]);
    process.stdout.write((about ? about.usage : usage()) + '\n');
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) return unknown(command);
  try {
    return await run.run(rest, (text) => process.stdout.write(text));
  } catch (err) {
    // parseArgs reports unknown or malformed flags as TypeErrors with ERR_PARSE_ARGS_* codes.
    const isUsage = err instanceof UsageError || (err as NodeJS.ErrnoException)?.code?.startsWith?.('ERR_PARSE_ARGS');
    process.stderr.write(`jarvis ${command}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (isUsage) process.stderr.write(`\n${run.usage}\n`);
    return 2;
  }
}

function unknown(command: string): number {
  process.stderr.write(`jarvis: unknown command ${JSON.stringify(command)}\n\n${usage()}\n`);
  return 2;
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
