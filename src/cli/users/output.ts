import { open } from 'node:fs/promises';
import type { PersonExportJson } from '../../shared/team/people.js';

/**
 * Writes the export into `file`, readable by its owner alone (a person's conversations are
 * personal data: docs/team.md "7. A person's data"). An existing file is not overwritten.
 */
export async function writeExport(file: string, data: PersonExportJson): Promise<void> {
  let handle;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${file} exists already: choose another --out, or remove it first`);
    throw err;
  }
  try {
    await handle.writeFile(JSON.stringify(data, null, 2) + '\n');
  } finally {
    await handle.close();
  }
}
