import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransferbenchError } from '../common/errors.js';
import { atomicWrite } from '../common/files.js';
import { readResults, resultFiles, type CellResult } from '../records/results.js';
import { readRubbish, rubbishFiles } from '../records/rubbish.js';
import { leaderboardTables, toCsv, type Table } from '../report/leaderboards.js';
import { expandGrid, suiteHash } from './grid.js';
import { gitCommit, packageVersions, type RunRecord } from './manifest.js';
import { parseSuite, type Suite } from './suite.js';

/**
 * Gathers every shard's results in `dir` into the CSV leaderboards and manifest.json. Refuses
 * results of different suites, and missing or duplicated cells, naming them.
 */
export function mergeResults(dir: string): { cells: number; files: string[]; tables: Record<string, Table> } {
  const suitePath = join(dir, 'suite.json');
  if (!existsSync(suitePath)) throw new TransferbenchError('BAD_OPTION', `${dir}: no suite.json; run a suite with --out ${dir} first`);
  const stored = JSON.parse(readFileSync(suitePath, 'utf8')) as { suiteHash: string; suite: unknown };
  const suite: Suite = parseSuite(stored.suite, suitePath);
  const hash = suiteHash(suite);
  const files = resultFiles(dir);
  if (files.length === 0) throw new TransferbenchError('BAD_OPTION', `${dir}: no results-K-of-N.jsonl files to merge`);
  const results: CellResult[] = [];
  for (const file of files) {
    for (const r of readResults(file)) {
      if (r.suiteHash !== hash) {
        throw new TransferbenchError('BAD_CONFIG', `${file}: holds results of suite version ${r.suiteHash}, but ${suitePath} is version ${hash}; shards of different suites cannot be merged`);
      }
      results.push(r);
    }
  }
  const cells = expandGrid(suite);
  const byId = new Map<string, number>();
  for (const r of results) byId.set(r.cellId, (byId.get(r.cellId) ?? 0) + 1);
  const duplicated = [...byId.entries()].filter(([, n]) => n > 1).map(([id]) => id);
  if (duplicated.length > 0) throw new TransferbenchError('BAD_CONFIG', `${dir}: ${duplicated.length} cell(s) appear more than once (e.g. ${duplicated.slice(0, 3).join(', ')}); remove the repeated shard file`);
  const missing = cells.filter((c) => !byId.has(c.id));
  if (missing.length > 0) {
    throw new TransferbenchError('BAD_CONFIG', `${dir}: ${missing.length} of ${cells.length} cells have no result (e.g. cell ${missing[0]?.index} ${missing[0]?.id}); run the missing shards (with --resume) before merging`);
  }
  const known = new Set(cells.map((c) => c.id));
  const stray = results.filter((r) => !known.has(r.cellId));
  if (stray.length > 0) throw new TransferbenchError('BAD_CONFIG', `${dir}: ${stray.length} result(s) belong to no cell of the suite`);
  const targets = [...new Set([...results].sort((a, b) => a.index - b.index).map((r) => r.target))];
  const tables = leaderboardTables(results, suite.rubbish !== undefined ? mergeRubbish(dir, targets, hash) : undefined);
  for (const [name, table] of Object.entries(tables)) atomicWrite(join(dir, name), toCsv(table));
  const runs = readdirSync(dir)
    .filter((f) => /^run-\d+-of-\d+\.json$/.test(f))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunRecord);
  const manifest = {
    suite: suite.name,
    suiteHash: hash,
    gitCommit: gitCommit(),
    packages: packageVersions(),
    seed: suite.seed,
    dataset: suite.dataset,
    evaluationSize: suite.evaluationSize,
    oracle: suite.oracle,
    cells: cells.length,
    backend: runs[0]?.backend ?? null,
    machines: runs.map((r) => ({ shard: r.shard, ...r.machine, backend: r.backend.name })),
    started: runs.map((r) => r.started).sort()[0] ?? null,
    ended: runs.map((r) => r.ended).sort().reverse()[0] ?? null,
    runs,
    totalCellSeconds: Math.round(results.reduce((s, r) => s + r.seconds, 0) * 1000) / 1000,
  };
  atomicWrite(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { cells: results.length, files: [...Object.keys(tables), 'manifest.json'].map((f) => join(dir, f)), tables };
}

/** The rubbish-class records of every shard: one per target (by descriptor name), or a clear refusal. */
function mergeRubbish(dir: string, targets: readonly string[], hash: string) {
  const records = rubbishFiles(dir).flatMap((f) => readRubbish(f));
  const wrong = records.find((r) => r.suiteHash !== hash);
  if (wrong) throw new TransferbenchError('BAD_CONFIG', `${dir}: a rubbish-class record of ${wrong.target} belongs to suite version ${wrong.suiteHash}, not ${hash}`);
  for (const target of targets) {
    const n = records.filter((r) => r.target === target).length;
    if (n === 0) throw new TransferbenchError('BAD_CONFIG', `${dir}: no rubbish-class record for target ${target}; run the shard that owns it (with --resume) before merging`);
    if (n > 1) throw new TransferbenchError('BAD_CONFIG', `${dir}: target ${target} has ${n} rubbish-class records; remove the repeated shard file`);
  }
  return records;
}
