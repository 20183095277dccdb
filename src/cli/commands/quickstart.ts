import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSuite } from '../../runner/suite.js';
import { outputDir } from '../../runner/run.js';
import { runCommand } from './bench.js';
import { buildMissingTargets } from './suite-targets.js';
import type { Reporter } from '../reporter.js';

export const QUICKSTART_SUITE = fileURLToPath(new URL('../../../../bench/quickstart.json', import.meta.url));

/** `transferbench quickstart`: build missing targets, run the quickstart suite, merge, show the leaderboards' tops. */
export async function quickstartCommand(
  reporter: Reporter,
  options: { backend?: string; targetsDir: string; cacheDir: string; seed: number; quiet: boolean },
): Promise<number> {
  const started = performance.now();
  const suite = loadSuite(QUICKSTART_SUITE);
  await buildMissingTargets(reporter, suite, options);
  await runCommand(reporter, QUICKSTART_SUITE, {
    resume: true,
    targetsDir: options.targetsDir,
    cacheDir: options.cacheDir,
    useCache: true,
    quiet: options.quiet,
    ...(options.backend ? { backend: options.backend } : {}),
  });
  const out = outputDir(suite, undefined);
  for (const board of ['leaderboard-attacks.csv', 'leaderboard-substitutes.csv', 'leaderboard-targets.csv']) {
    // Parsed, not split on commas: labels such as dynamic-distillation(rounds=3,eps=0.2) are quoted fields.
    const lines = parse(readFileSync(join(out, board), 'utf8')) as string[][];
    reporter.info(`\n${board} (top ${Math.min(5, lines.length - 1)} of ${lines.length - 1}):`);
    for (const line of lines.slice(0, 6)) reporter.info(`  ${line.slice(0, 8).join(', ')}`);
  }
  reporter.info(`\nopen ${join(out, 'index.html')} in a browser for the sortable leaderboards and plots`);
  reporter.info(`\nquickstart done in ${Math.round((performance.now() - started) / 1000)} s; every CSV is in ${out}/`);
  return 0;
}
