import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { plotsFolder, writePlots, type BenchResults } from './lib/plots/figures.js';

// `npx tsx bench/plots.ts bench/results/latest.json [out-dir]`: the charts of a run drawn again from
// its JSON (after a change to the charts, or from an older run), into out-dir (by default the
// folder `npm run bench` writes them to, beside the JSON: docs/benchmark.md "Plots").

const [file, out] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/plots.ts <results.json> [out-dir]');
  process.exit(2);
}
const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
const name = /([^/]+)\.json$/.exec(file)?.[1] ?? 'latest';
const dir = out ?? join(dirname(file), plotsFolder(name));
for (const p of writePlots(results, dir)) console.log(join(dir, p.file));
