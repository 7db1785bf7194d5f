import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { PersonCounts, PersonDeletedJson, PersonExportJson } from '../../shared/team/people.js';
import { userNameProblem } from '../../trustedUsers.js';
import { parseUrl, UsageError } from '../args.js';
import { onTheDatabase } from './onDatabase.js';
import { overHttp } from './overHttp.js';
import { writeExport } from './output.js';

export const USERS_USAGE = `Usage: jarvis users export <name> [--out FILE] [--url URL]
       jarvis users delete <name> [--yes] [--url URL]

A person's data (docs/team.md "7. A person's data: export and delete"): every
conversation (every branch, files included), stored response and storage
account of one owner: the user name the sign-in proxy sends, or a key's name.

  export        one JSON document (version 1) on stdout, or into --out FILE
  delete        deletes it all; without --yes, only says what it would delete
  --out FILE    write the export there (readable by you alone), not to stdout
  --yes         really delete
  --url URL     ask a running Jarvis (GET /v1/admin/users/<name>/export,
                DELETE /v1/admin/users/<name>) with the admin key in JARVIS_API_KEY;
                a delete stops the person's running answers first

Without --url the command opens the database itself, as \`jarvis serve\` does
(DATABASE_URL, else JARVIS_DATA_DIR/jarvis.db). A running Jarvis keeps its SQLite
file to itself: stop it first, or use --url.`;

/** `jarvis users`: exit 0 done, 1 nothing deleted (no --yes), 2 could not run. */
export async function usersCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      yes: { type: 'boolean', default: false },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    out(USERS_USAGE + '\n');
    return 0;
  }
  const [action, rawName, ...extra] = positionals;
  if (action !== 'export' && action !== 'delete') throw new UsageError(action === undefined ? 'export or delete?' : `unknown action ${JSON.stringify(action)}: export or delete`);
  if (rawName === undefined) throw new UsageError(`jarvis users ${action} needs the person's name`);
  if (extra.length > 0) throw new UsageError(`one name at a time (got also ${JSON.stringify(extra[0])})`);
  const name = rawName.trim();
  const problem = userNameProblem(name);
  if (problem) throw new UsageError(`the name ${problem}`);
  if (action === 'export' && values.yes) throw new UsageError('--yes is for delete');
  if (action === 'delete' && values.out !== undefined) throw new UsageError('--out is for export');

  // Before anything is read (and logged as exported): an export never replaces a file.
  if (values.out !== undefined && existsSync(values.out)) throw new Error(`${values.out} exists already: choose another --out, or remove it first`);
  const url = parseUrl(values.url);
  const source = url ? overHttp(url) : await onTheDatabase();
  try {
    if (action === 'export') {
      const data: PersonExportJson = await source.export(name);
      if (values.out === undefined) {
        out(JSON.stringify(data, null, 2) + '\n');
      } else {
        await writeExport(values.out, data);
        out(`exported ${name}: ${describe(data.counts)} into ${values.out}\n`);
      }
      return 0;
    }
    if (!values.yes) {
      const counts = await source.counts(name);
      out(`${name} has ${describe(counts)}. Nothing was deleted: run again with --yes to delete it all.\n`);
      return 1;
    }
    const result: PersonDeletedJson = await source.delete(name);
    const stopped = result.streams_stopped > 0 ? `, after stopping ${result.streams_stopped} running answer(s)` : '';
    out(`deleted ${name}: ${describe(result.deleted)}${stopped}\n`);
    if (source.note) out(source.note + '\n');
    return 0;
  } finally {
    await source.close();
  }
}

function describe(counts: PersonCounts): string {
  const parts = Object.entries(counts).map(([what, n]) => `${n} ${what.replace(/_/g, ' ')}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}
