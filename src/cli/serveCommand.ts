import { parseArgs } from 'node:util';
import { UsageError } from './args.js';

export const SERVE_USAGE = `Usage: jarvis serve [--port PORT] [--host HOST]

Starts the Jarvis server: the same as \`npm start\`, configured by the same
environment variables (docs/configuration.md). Stop it with Ctrl-C or SIGTERM.

  --port PORT   the port to listen on (sets PORT; default 8000, 0 picks a free one)
  --host HOST   the address to listen on (sets HOST; default 127.0.0.1)`;

/**
 * `jarvis serve`: runs the server's own entry point (src/main.ts) in this process,
 * so signals, exit codes and the "listening on" line are exactly those of
 * `npm start`. The flags become the PORT and HOST it reads from the environment.
 * Resolves only if the server never exits on its own (it calls process.exit).
 */
export async function serveCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    out(SERVE_USAGE + '\n');
    return 0;
  }
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port) || Number(values.port) > 65_535) throw new UsageError(`--port: expected a port number (0-65535), got ${JSON.stringify(values.port)}`);
    process.env.PORT = values.port;
  }
  if (values.host !== undefined) {
    if (values.host === '') throw new UsageError('--host: empty host');
    process.env.HOST = values.host;
  }
  // The entry point reads its own flags from argv: it gets none (they are in the environment now).
  process.argv = process.argv.slice(0, 2);
  await import('../main.js');
  return new Promise<number>(() => {});
}
