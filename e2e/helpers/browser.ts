import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

// Debian's chromium, driven by playwright-core: nothing is downloaded.
// CHROMIUM_PATH overrides where it is. `args` adds command-line switches
// (e.g. --host-resolver-rules to play a DNS rebinding).
export async function launchChromium(args: string[] = []): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', ...args],
    timeout: 60_000,
  });
}
