import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The browser tests must run against the UI as it is in the tree, not a stale build:
// rebuild dist/ui when any UI or shared source is newer than it. A directory lock
// keeps two test workers from building into the same folder at once.

const root = fileURLToPath(new URL('../../', import.meta.url));
const index = join(root, 'dist/ui/index.html');
const lock = join(root, 'dist/.ui-build.lock');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  if (!existsSync(index)) return false;
  // The UI imports the client core (src/client) and the wire types (src/shared) too.
  const sources = Math.max(newestMtime(join(root, 'ui')), newestMtime(join(root, 'src/shared')), newestMtime(join(root, 'src/client')));
  return statSync(index).mtimeMs >= sources;
}

export async function ensureUiBuilt(): Promise<void> {
  mkdirSync(join(root, 'dist'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // another worker is building; a lock older than 2 minutes is left over from a crash
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`UI build lock ${lock} held for too long`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (isFresh()) return;
    // The main UI empties dist/ui; the report page (ui/report.vite.config.ts) is built after it, beside it.
    for (const config of ['ui/vite.config.ts', 'ui/report.vite.config.ts']) {
      execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', config, '--logLevel', 'warn'], {
        cwd: root,
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: ['ignore', 'inherit', 'inherit'],
        timeout: 120_000,
      });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
