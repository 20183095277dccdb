import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { targetDescriptorPath } from '../../bench/targets.js';
import { loadSuite, type Suite } from '../../bench/suite.js';
import { TransferbenchError } from '../../common/errors.js';
import { loadZoo } from '../../targets/zoo.js';
import type { Reporter } from '../reporter.js';
import { runCommand } from './bench.js';
import { targetsCommand } from './targets.js';

const BENCH = fileURLToPath(new URL('../../../../bench/', import.meta.url));
const TARGETS = fileURLToPath(new URL('../../../../targets/', import.meta.url));
const REPORTS = fileURLToPath(new URL('../../../../reports/', import.meta.url));
const COMPARED = ['results.csv', 'leaderboard-targets.csv', 'leaderboard-attacks.csv', 'leaderboard-substitutes.csv', 'transfer-matrix.csv', 'rubbish.csv'];

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

/** Which shipped zoo file (targets/zoo*.json) holds each recipe name. */
function zooOf(): Map<string, string> {
  const owners = new Map<string, string>();
  for (const file of readdirSync(TARGETS).filter((f) => /^zoo.*\.json$/.test(f)).sort()) {
    for (const recipe of loadZoo(join(TARGETS, file)).targets) owners.set(recipe.name, join(TARGETS, file));
  }
  return owners;
}

/** Builds the suite's zoo targets that are not built yet, each from the shipped zoo file holding it. */
export async function buildMissingTargets(reporter: Reporter, suite: Suite, options: { targetsDir: string; seed: number; backend?: string }): Promise<void> {
  const missing = suite.targets.filter((t) => !t.endsWith('.json') && !existsSync(targetDescriptorPath(t, options.targetsDir)));
  if (missing.length === 0) return;
  const owners = zooOf();
  const orphans = missing.filter((t) => !owners.has(t));
  if (orphans.length > 0) throw new TransferbenchError('UNKNOWN_NAME', `${suite.name}: target(s) ${orphans.join(', ')} are built nowhere and in no targets/zoo*.json; build them or name their target.json`);
  for (const zoo of new Set(missing.map((t) => owners.get(t) as string))) {
    const only = missing.filter((t) => owners.get(t) === zoo);
    reporter.info(`${suite.name}: building ${only.join(', ')} from ${zoo}`);
    await targetsCommand(reporter, 'build', [], { zoo, out: options.targetsDir, only: only.join(','), seed: options.seed, ...(options.backend !== undefined ? { backend: options.backend } : {}) });
  }
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
  if (unknown.length > 0) throw new TransferbenchError('UNKNOWN_NAME', `repro: unknown suite(s) ${unknown.join(', ')}; shipped: ${known.join(', ')}`);
  const backend = options.backend !== undefined ? { backend: options.backend } : {};
  let differing = 0;
  for (const name of wanted) {
    const path = join(BENCH, `${name}.json`);
    const suite = loadSuite(path);
    await buildMissingTargets(reporter, suite, options);
    const out = options.out === undefined ? undefined : join(options.out, suite.name);
    await runCommand(reporter, path, { resume: true, targetsDir: options.targetsDir, cacheDir: options.cacheDir, useCache: true, quiet: options.quiet, ...backend, ...(out ? { out } : {}) });
    if (out !== undefined) differing += compareWithCommitted(reporter, suite.name, out);
  }
  // A difference is what the user asked to learn: it is shown even under --quiet.
  if (options.out !== undefined) {
    if (differing === 0) reporter.info('every CSV matches the committed reports');
    else reporter.warn(`${differing} CSV(s) differ from the committed reports`);
  }
  return differing === 0 ? 0 : 1;
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
    const a = readFileSync(committed, 'utf8').split('\n');
    const b = readFileSync(fresh, 'utf8').split('\n');
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
