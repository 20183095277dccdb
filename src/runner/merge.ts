import { closeSync, existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ioError, TransferbenchError } from '../common/errors.js';
import { atomicWrite, removeStaleTemporaries, temporaryFor } from '../common/files.js';
import { resultFiles, type CellResult } from '../records/results.js';
import { readRubbish, rubbishFiles } from '../records/rubbish.js';
import {
  csvLines,
  LeaderboardBuilder,
  RESULTS_COLUMNS,
  resultsRow,
  summaryTables,
  toCsv,
  type Table,
} from '../report/leaderboards.js';
import { gridCells, gridSize, suiteHash } from './grid.js';
import { forEachJsonLine, removeStaleSpills, SpillByIndex } from '../records/merge-stream.js';
import { mergeQueryRecords } from './query-merge.js';
import { queryTables } from '../report/queries.js';
import type { GridCollector } from '../report/grids.js';
import { LedgerIndex } from './ledger-check.js';
import { queryResultFiles } from '../records/queries.js';
import { checkShardPlans } from './shard-plan.js';
import { gitCommit, packageVersions, type RunRecord } from './manifest.js';
import { parseSuite, type Suite } from './suite.js';
import { DEFAULT_ISOLATION } from '../oracle/pool.js';

/** A results record as JSON puts it: checked field by field before anything trusts it. */
type Unchecked = Partial<Record<keyof CellResult, unknown>>;

export interface MergeOptions {
  /**
   * Return the tables (with every results row) for the report page, as well as writing them.
   * Off, merging holds no state per cell beyond 21 bytes: what a run of any size needs.
   */
  readonly tables?: boolean;
  /**
   * Given, it is offered every record (and where it is) as merge reads it: the report's example grids, without a second
   * pass.
   */
  readonly grids?: GridCollector;
}

export interface MergeOutcome {
  readonly cells: number;
  readonly files: string[];
  readonly tables: Record<string, Table>;
  /** Every record's queries were checked against the oracle's ledger (false: the folder has none). */
  readonly ledgerChecked: boolean;
  /** Temporaries an interrupted merge or run left, removed before this one started. */
  readonly removed: string[];
}

/**
 * Gathers every shard's results in `dir` into the CSV leaderboards and manifest.json, streaming:
 * shard files are read a chunk at a time, each record is set aside on disk by its cell index
 * (without its example images), and the tables are built from the records read back in the
 * suite's order, so memory does not grow with the records and time is linear in the cells.
 * Refuses results of different suites, and missing, duplicated or unknown cells, naming them.
 */
export function mergeResults(dir: string, options: MergeOptions = {}): MergeOutcome {
  const suitePath = join(dir, 'suite.json');
  if (!existsSync(suitePath))
    throw new TransferbenchError('BAD_OPTION', `${dir}: no suite.json; run a suite with --out ${dir} first`);
  // What a merge killed mid-write left (no handler runs while it writes synchronously).
  const removed = [...removeStaleTemporaries(dir).map((f) => join(dir, f)), ...removeStaleSpills()];
  const stored = JSON.parse(readFileSync(suitePath, 'utf8')) as { suiteHash: string; suite: unknown };
  const suite: Suite = parseSuite(stored.suite, suitePath);
  const hash = suiteHash(suite);
  const files = resultFiles(dir);
  if (files.length === 0) throw new TransferbenchError('BAD_OPTION', `${dir}: no results-K-of-N.jsonl files to merge`);
  checkShardPlans(dir, [...files, ...queryResultFiles(dir)]);
  const total = gridSize(suite);
  // Cell ids (16 hex digits) as 64-bit integers by index: 8 bytes a cell instead of a Cell object.
  const ids = new BigUint64Array(total);
  for (const cell of gridCells(suite)) ids[cell.index] = BigInt(`0x${cell.id}`);
  const seen = new Uint8Array(total);
  const ledger = LedgerIndex.read(dir, hash, total, (index) => ids[index]?.toString(16).padStart(16, '0') ?? '');
  const spill = new SpillByIndex(total);
  try {
    const duplicated = new Set<string>();
    let stray = 0;
    let seconds = 0;
    for (const file of files) {
      forEachJsonLine(file, (value, _line, at) => {
        const r = value as Unchecked;
        if (r.suiteHash !== hash) {
          throw new TransferbenchError(
            'BAD_CONFIG',
            `${file}: holds results of suite version ${String(r.suiteHash)}, ` +
              `but ${suitePath} is version ${hash}; shards of different suites ` +
              `cannot be merged`,
          );
        }
        const index = r.index;
        const known =
          typeof index === 'number' &&
          Number.isInteger(index) &&
          index >= 0 &&
          index < total &&
          typeof r.cellId === 'string' &&
          /^[0-9a-f]{16}$/.test(r.cellId) &&
          ids[index] === BigInt(`0x${r.cellId}`);
        if (!known) {
          stray++;
          return;
        }
        if (seen[index] === 1) {
          duplicated.add(r.cellId as string);
          return;
        }
        seen[index] = 1;
        ledger?.checkTransfer(file, r as CellResult);
        options.grids?.offer(r as CellResult, at);
        seconds += typeof r.seconds === 'number' ? r.seconds : 0;
        const { examples: _examples, ...compact } = r;
        spill.put(index, compact);
      });
    }
    if (duplicated.size > 0)
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${dir}: ${duplicated.size} cell(s) appear more than once (e.g. ` +
          `${[...duplicated].slice(0, 3).join(', ')}); remove the repeated ` +
          `shard file`,
      );
    const missing = seen.reduce((n, s) => n + (s === 0 ? 1 : 0), 0);
    if (missing > 0) {
      const first = seen.indexOf(0);
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${dir}: ${missing} of ${total} cells have no result (e.g. cell ` +
          `${first} ${ids[first]?.toString(16).padStart(16, '0')}); run ` +
          `the missing shards (with --resume) before merging`,
      );
    }
    if (stray > 0)
      throw new TransferbenchError('BAD_CONFIG', `${dir}: ${stray} result(s) belong to no cell of the suite`);
    const queryRecords = mergeQueryRecords(dir, suite, hash);
    ledger?.checkQueries(queryRecords);
    // The query leaderboards set every transfer cell beside the query cells: only suites with
    // query cells keep the records (without images) for them.
    const kept: CellResult[] | undefined = queryRecords.length > 0 ? [] : undefined;
    const { builder, rows } = writeResultsCsv(dir, spill, total, options.tables ?? true, kept);
    const summaries = summaryTables(
      builder,
      suite.rubbish !== undefined ? mergeRubbish(dir, builder.targetOrder, hash) : undefined,
    );
    const queries = queryTables(kept ?? [], queryRecords);
    for (const [name, table] of Object.entries({ ...summaries, ...queries }))
      atomicWrite(join(dir, name), toCsv(table));
    writeManifest(dir, suite, hash, total, seconds, ledger !== undefined);
    const tables = {
      ...summaries,
      ...(rows === undefined ? {} : { 'results.csv': { columns: RESULTS_COLUMNS, rows } }),
      ...queries,
    };
    const written = [...Object.keys(summaries), 'results.csv', ...Object.keys(queries), 'manifest.json'].map((f) =>
      join(dir, f),
    );
    return { cells: total, files: written, tables, ledgerChecked: ledger !== undefined, removed };
  } finally {
    spill.close();
  }
}

/**
 * results.csv, a batch of rows at a time, from the records in the suite's order; the same
 * records feed the summary leaderboards. Written beside the target and renamed over it at the end.
 */
function writeResultsCsv(dir: string, spill: SpillByIndex, total: number, keepRows: boolean, kept?: CellResult[]) {
  const builder = new LeaderboardBuilder();
  const rows: (number | string | boolean)[][] | undefined = keepRows ? [] : undefined;
  const target = join(dir, 'results.csv');
  const partial = temporaryFor(target);
  const fd = openSync(partial, 'w');
  let written = false;
  try {
    writeSync(fd, csvLines([RESULTS_COLUMNS]));
    let batch: (number | string | boolean)[][] = [];
    for (let index = 0; index < total; index++) {
      const record = spill.get<CellResult>(index);
      builder.add(record);
      kept?.push(record);
      const row = resultsRow(record);
      batch.push(row);
      rows?.push(row);
      if (batch.length === 1000 || index === total - 1) {
        writeSync(fd, csvLines(batch));
        batch = [];
      }
    }
    written = true;
  } catch (error) {
    throw ioError(error, target, 'the results table');
  } finally {
    closeSync(fd);
    if (!written) rmSync(partial, { force: true });
  }
  renameSync(partial, target);
  return { builder, rows };
}

function writeManifest(
  dir: string,
  suite: Suite,
  hash: string,
  cells: number,
  seconds: number,
  ledgerChecked: boolean,
): void {
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
    // The isolation resolved: a suite that leaves it out ran with the default.
    oracle: { ...suite.oracle, isolation: suite.oracle.isolation ?? DEFAULT_ISOLATION },
    cells,
    backend: runs[0]?.backend ?? null,
    machines: runs.map((r) => ({ shard: r.shard, ...r.machine, backend: r.backend.name })),
    started: runs.map((r) => r.started).sort()[0] ?? null,
    ended:
      runs
        .map((r) => r.ended)
        .sort()
        .reverse()[0] ?? null,
    runs,
    // Whether every record's queries were checked against the oracle's ledger (folders written before ledgers: no).
    oracleLedger: ledgerChecked ? 'checked' : 'absent',
    totalCellSeconds: Math.round(seconds * 1000) / 1000,
  };
  atomicWrite(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The rubbish-class records of every shard: one per target (by descriptor name), or a clear refusal. */
function mergeRubbish(dir: string, targets: readonly string[], hash: string) {
  const records = rubbishFiles(dir).flatMap((f) => readRubbish(f));
  const wrong = records.find((r) => r.suiteHash !== hash);
  if (wrong)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${dir}: a rubbish-class record of ${wrong.target} belongs to suite version ${wrong.suiteHash}, not ${hash}`,
    );
  for (const target of targets) {
    const n = records.filter((r) => r.target === target).length;
    if (n === 0)
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${dir}: no rubbish-class record for target ${target}; run the ` +
          `shard that owns it (with --resume) before merging`,
      );
    if (n > 1)
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${dir}: target ${target} has ${n} rubbish-class records; remove the repeated shard file`,
      );
  }
  return records;
}
