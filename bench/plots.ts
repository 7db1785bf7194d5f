import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkPlotsDir } from './lib/plots/check.js';
import { plotsFolder, writePlots, type BenchResults } from './lib/plots/figures.js';

// `npx tsx bench/plots.ts bench/results/latest.json [out-dir]`: the charts of a run drawn again from
// its JSON (after a change to the charts, or from an older run), into out-dir (by default the
// folder `npm run bench` writes them to, beside the JSON: docs/benchmark.md "Plots").

// `npx tsx bench/plots.ts --check <dir> <file.svg>…`: exits 1 unless each file is in dir and is a
// sound chart (CI's check of the quick run's charts, .ci/run).
const args = process.argv.slice(2);
if (args[0] === '--check') {
  const [dir, ...files] = args.slice(1);
  const problems = dir && files.length ? checkPlotsDir(dir, files) : ['usage: tsx bench/plots.ts --check <dir> <file.svg>…'];
  for (const p of problems) console.error(p);
  if (problems.length === 0) console.log(`${files.length} charts in ${dir}: well-formed, titled, described`);
  process.exit(problems.length ? 1 : 0);
}
const [file, out] = args;
if (!file) {
  console.error('usage: tsx bench/plots.ts <results.json> [out-dir]');
  process.exit(2);
}
const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
const name = /([^/]+)\.json$/.exec(file)?.[1] ?? 'latest';
const dir = out ?? join(dirname(file), plotsFolder(name));
for (const p of writePlots(results, dir)) console.log(join(dir, p.file));
