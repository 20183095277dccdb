import { parse } from 'csv-parse/sync';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VOLATILE_COLUMNS } from '../../report/leaderboards.js';
import { loadSuite } from '../../runner/suite.js';
import { TransferbenchError } from '../../common/errors.js';
import type { Reporter } from '../reporter.js';
import { runCommand } from './bench.js';
import { buildMissingTargets } from './suite-targets.js';

const BENCH = fileURLToPath(new URL('../../../../bench/', import.meta.url));
const REPORTS = fileURLToPath(new URL('../../../../reports/', import.meta.url));
const COMPARED = [
  'results.csv',
  'leaderboard-targets.csv',
  'leaderboard-attacks.csv',
  'leaderboard-substitutes.csv',
  'transfer-matrix.csv',
  'rubbish.csv',
];

export interface ReproOptions {
  /** Folder the suites write into, as ROOT/<suite name>; the committed reports when absent. */
  readonly out?: string;
  readonly backend?: string;
  readonly targetsDir: string;
  readonly cacheDir: string;
  readonly seed: number;
  readonly quiet: boolean;
}

/** The shipped reproduction suites: bench/repro-*.json by name. */
export function reproSuites(): string[] {
  return readdirSync(BENCH)
    .filter((f) => /^repro-.*\.json$/.test(f))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/**
 * `transferbench repro [NAME...] [--out ROOT]`: builds the zoo targets the reproduction suites
 * need (from whichever zoo file holds them), runs each suite (resuming what ROOT holds) and
 * merges it. With --out elsewhere than reports/, compares every CSV with the committed one.
 */
export async function reproCommand(reporter: Reporter, names: string[], options: ReproOptions): Promise<number> {
  const known = reproSuites();
  const wanted = names.length > 0 ? names.map((n) => n.replace(/\.json$/, '').replace(/^bench\//, '')) : known;
  const unknown = wanted.filter((n) => !known.includes(n));
  if (unknown.length > 0)
    throw new TransferbenchError(
      'UNKNOWN_NAME',
      `repro: unknown suite(s) ${unknown.join(', ')}; shipped: ${known.join(', ')}`,
    );
  const backend = options.backend !== undefined ? { backend: options.backend } : {};
  let differing = 0;
  for (const name of wanted) {
    const path = join(BENCH, `${name}.json`);
    const suite = loadSuite(path);
    await buildMissingTargets(reporter, suite, options);
    const out = options.out === undefined ? undefined : join(options.out, suite.name);
    await runCommand(reporter, path, {
      resume: true,
      targetsDir: options.targetsDir,
      cacheDir: options.cacheDir,
      useCache: true,
      quiet: options.quiet,
      ...backend,
      ...(out ? { out } : {}),
    });
    if (out !== undefined) differing += compareWithCommitted(reporter, suite.name, out);
  }
  // A difference is what the user asked to learn: it is shown even under --quiet.
  if (options.out !== undefined) {
    if (differing === 0) reporter.info('every CSV matches the committed reports');
    else reporter.warn(`${differing} CSV(s) differ from the committed reports`);
  }
  return differing === 0 ? 0 : 1;
}

/**
 * A CSV's rows reduced to the columns the committed file has, timings left out: a committed
 * report from before a column was added still compares, and run times never count as differences.
 * Parsed as CSV: labels such as pgd(steps=40,randomStart=false) are quoted fields with commas.
 */
function comparable(text: string, committedText: string): string[] {
  const header = (parse(committedText, { to_line: 1 }) as string[][])[0] ?? [];
  const keep = header.filter((c) => !(VOLATILE_COLUMNS as readonly string[]).includes(c));
  const rows = parse(text) as string[][];
  const columns = rows[0] ?? [];
  const indices = keep.map((c) => columns.indexOf(c));
  return rows.map((cells) => JSON.stringify(indices.map((i) => (i < 0 ? '<missing>' : cells[i]))));
}

/** Compares a fresh run's CSVs with reports/<name>/, row by row; returns how many files differ. */
function compareWithCommitted(reporter: Reporter, name: string, out: string): number {
  let differing = 0;
  for (const file of COMPARED) {
    const committed = join(REPORTS, name, file);
    const fresh = join(out, file);
    if (!existsSync(committed) && !existsSync(fresh)) continue;
    if (!existsSync(committed) || !existsSync(fresh)) {
      reporter.warn(`${name}/${file}: ${existsSync(fresh) ? 'not committed' : 'not produced'}`);
      differing++;
      continue;
    }
    const a = comparable(readFileSync(committed, 'utf8'), readFileSync(committed, 'utf8'));
    const b = comparable(readFileSync(fresh, 'utf8'), readFileSync(committed, 'utf8'));
    const rows = Math.max(a.length, b.length);
    let changed = 0;
    for (let i = 0; i < rows; i++) if (a[i] !== b[i]) changed++;
    if (changed > 0) {
      differing++;
      reporter.warn(`${name}/${file}: ${changed} of ${rows} lines differ`);
    } else reporter.info(`${name}/${file}: identical`);
  }
  return differing;
}
