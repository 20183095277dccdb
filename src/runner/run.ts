import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TransferbenchError } from '../common/errors.js';
import { ensureFolder, removeStaleTemporaries } from '../common/files.js';
import { currentBackendInfo, ensureBackend, useBackend } from '../compute/backend.js';
import { currentEngineInfo, resolveEngine } from '../compute/engine.js';
import { GroupRunner } from './group.js';
import { lockShard } from './lock.js';
import { runRecord } from './manifest.js';
import type { GroupWorkerData } from './group-worker.js';
import { runGroupsInProcesses } from './group-processes.js';
import { expandGrid, shardCells, suiteHash, type Cell, type Shard } from './grid.js';
import { appendResult, readResults, resultsFile, type CellResult } from '../records/results.js';
import {
  appendLedger,
  ledgerFile,
  ledgerKey,
  reconcileLedger,
  sortLedger,
  type LedgerEntry,
} from '../records/ledger.js';
import { queriesFile, readQueryResults } from '../records/queries.js';
import { measureRubbishOfShard } from './rubbish-run.js';
import { runQueryCellsOfShard } from './query-run.js';
import { recordShardPlan, shardPlan } from './shard-plan.js';
import type { Suite } from './suite.js';
import { checkTargetAgainstModel } from '../targets/check.js';
import { loadTarget } from '../targets/descriptor.js';
import { replicateSeeds, retrainsTargets } from './suite-types.js';
import { checkTargets, replicateTargetPath, targetDescriptorPath, targetNames } from './targets.js';

/** How to run a suite; every field has a default, as the CLI's. */
export interface RunOptions {
  /** The part of the suite to run (default the whole suite, 1/1). */
  readonly shard?: Shard;
  /** Continue an existing results file, skipping finished cells (default false: refuse to). */
  readonly resume?: boolean;
  /** Output folder (default the suite's `output`, else reports/<name>). */
  readonly outDir?: string;
  /** Where zoo targets live: targetsDir/<name>/target.json (default `targets`). */
  readonly targetsDir?: string;
  /** Substitute and generator cache (default `substitutes`). */
  readonly cacheDir?: string;
  /** false: retrain even when cached (default true). */
  readonly useCache?: boolean;
  /** Groups run at once, each in its own worker process (default 1: in this process). */
  readonly parallel?: number;
  /** Compute backend to select first (default the active one, or the fastest that loads). */
  readonly backend?: string;
  readonly progress?: (event: { done: number; total: number; skipped: number; queries: number }) => void;
}

type ResolvedRunOptions = Required<Omit<RunOptions, 'backend'>>;

/** The output folder of a suite: the one asked for, else the suite's own, else reports/<name>. */
export function outputDir(suite: Suite, out: string | undefined): string {
  return out ?? suite.output ?? join('reports', suite.name);
}

function resolveRunOptions(suite: Suite, options: RunOptions): ResolvedRunOptions {
  return {
    shard: options.shard ?? { k: 1, n: 1 },
    resume: options.resume ?? false,
    outDir: outputDir(suite, options.outDir),
    targetsDir: options.targetsDir ?? 'targets',
    cacheDir: options.cacheDir ?? 'substitutes',
    useCache: options.useCache ?? true,
    parallel: options.parallel ?? 1,
    progress: options.progress ?? (() => {}),
  };
}

/**
 * Runs the suite's cells for one shard, appending each finished cell to
 * `<out>/results-K-of-N.jsonl`. Substitutes are obtained once per (target, substitute) group;
 * with `parallel` > 1, independent groups run at once in worker processes. Results do not depend
 * on how groups are scheduled: every CSV is sorted by the suite's cell order.
 */
export async function runSuite(
  suite: Suite,
  runOptions: RunOptions = {},
): Promise<{ ran: number; skipped: number; file: string; removed: string[] }> {
  const options = resolveRunOptions(suite, runOptions);
  await (runOptions.backend !== undefined ? useBackend(runOptions.backend) : ensureBackend());
  // Before any worker starts: an engine chosen by measurement is timed once, here.
  await resolveEngine();
  const hash = suiteHash(suite);
  requireBuiltTargets(suite, options.targetsDir, options.shard);
  const names = targetNames(suite.targets, options.targetsDir, `suite ${suite.name}`);
  await checkTargets(suite.targets, options.targetsDir);
  for (const { path } of replicateTargetPaths(suite, options.targetsDir))
    await checkTargetAgainstModel(loadTarget(path));
  const cells = shardCells(expandGrid(suite), options.shard);
  ensureFolder(options.outDir, 'the results (--out)');
  ensureFolder(options.cacheDir, 'the substitute cache (--cache-dir)');
  writeFileSync(join(options.outDir, 'suite.json'), `${JSON.stringify({ suiteHash: hash, suite }, null, 2)}\n`);
  const file = resultsFile(options.outDir, options.shard);
  const release = lockShard(`${file}.lock`);
  const started = new Date();
  try {
    // Temporaries of killed runs and merges in this folder (a live process's are kept).
    const removed = removeStaleTemporaries(options.outDir).map((f) => join(options.outDir, f));
    // Entries of cells whose result never made it (all of them when no result file is left) are stale.
    reconcileShardLedger(options.outDir, options.shard, file);
    const transfer = await runLocked(suite, hash, names, cells, file, options);
    const queries = await runQueryCellsOfShard(suite, hash, options);
    sortLedger(ledgerFile(options.outDir, options.shard));
    // Query cells are cells too: counted in what the command prints and in the run record.
    const result = {
      ran: transfer.ran + queries.ran,
      skipped: transfer.skipped + queries.skipped,
      file: transfer.file,
      removed,
    };
    const { k, n } = options.shard;
    // What merge writes into manifest.json about this run (machine, backend, times).
    writeFileSync(
      join(options.outDir, `run-${k}-of-${n}.json`),
      `${JSON.stringify(runRecord(`${k}/${n}`, started, result.ran, result.skipped), null, 2)}\n`,
    );
    return result;
  } finally {
    release();
  }
}

/** Drops ledger entries of cells whose result line never made it (see reconcileLedger). */
function reconcileShardLedger(outDir: string, shard: Shard, file: string): void {
  const finished = new Set([
    ...readResults(file, true).map((r) => ledgerKey({ kind: 'transfer', cellId: r.cellId })),
    ...readQueryResults(queriesFile(outDir, shard), true).map((r) => ledgerKey({ kind: 'query', cellId: r.cellId })),
  ]);
  reconcileLedger(ledgerFile(outDir, shard), (entry) => finished.has(ledgerKey(entry)));
}

/**
 * Fails before any work when a target descriptor is not on this machine (every shard reads every
 * target's name): on a cluster the usual cause is a node without the shared targets folder, and
 * the line must say which target and which node.
 */
function requireBuiltTargets(suite: Suite, targetsDir: string, shard: Shard): void {
  const needed = [
    ...suite.targets.map((t) => ({ target: t, path: targetDescriptorPath(t, targetsDir), replica: false })),
    ...replicateTargetPaths(suite, targetsDir).map((r) => ({
      target: `${r.target} of the replicate of seed ${r.seed}`,
      path: r.path,
      replica: true,
    })),
  ];
  for (const { target, path, replica } of needed) {
    if (existsSync(path)) continue;
    const fix = replica
      ? `build the replicates' targets with \`transferbench targets build --suite SUITE --targets-dir ${targetsDir}\``
      : target.endsWith('.json')
        ? 'copy it there'
        : `build it with \`transferbench targets build --only ${target} ` +
          `--out ${targetsDir}\` or point --targets-dir at the shared folder`;
    throw new TransferbenchError(
      'BAD_CONFIG',
      `shard ${shard.k}/${shard.n} on node ${hostname()}: target ${target} ` +
        `is not built here (${path} is missing); ${fix}`,
    );
  }
}

/** The descriptors of the replicates' own builds of the zoo targets (none unless replicates retrain targets). */
function replicateTargetPaths(suite: Suite, targetsDir: string): { target: string; seed: number; path: string }[] {
  if (!retrainsTargets(suite)) return [];
  return replicateSeeds(suite)
    .filter((seed) => seed !== suite.seed)
    .flatMap((seed) =>
      suite.targets
        .filter((t) => !t.endsWith('.json'))
        .map((target) => ({ target, seed, path: replicateTargetPath(target, targetsDir, suite, seed, true) })),
    );
}

async function runLocked(
  suite: Suite,
  hash: string,
  names: ReadonlyMap<string, string>,
  cells: Cell[],
  file: string,
  options: ResolvedRunOptions,
): Promise<{ ran: number; skipped: number; file: string }> {
  if (existsSync(file) && !options.resume) {
    throw new TransferbenchError(
      'BAD_OPTION',
      `${file} already exists; pass --resume to continue it, or --out another folder`,
    );
  }
  const previous = readResults(file, true);
  if (previous.some((r) => r.suiteHash !== hash)) {
    throw new TransferbenchError(
      'BAD_OPTION',
      `${file} holds results of another version of suite ${suite.name}; --out another folder or delete it`,
    );
  }
  recordShardPlan(options.outDir, shardPlan(expandGrid(suite), options.shard), options.shard, options.resume);
  await measureRubbishOfShard(suite, hash, names, options);
  const done = new Set(previous.map((r) => r.cellId));
  const pending = cells.filter((c) => !done.has(c.id));
  const skipped = cells.length - pending.length;
  let finished = skipped;
  let queries = 0;
  options.progress({ done: finished, total: cells.length, skipped, queries });
  if (pending.length === 0) return { ran: 0, skipped, file };
  const ledger = ledgerFile(options.outDir, options.shard);
  const onResult = (result: CellResult, substituteQueries: number, charged: LedgerEntry) => {
    // The ledger line first: a kill between the two leaves an entry the resumed run drops and writes again.
    appendLedger(ledger, charged);
    appendResult(file, result);
    queries += substituteQueries + result.evaluated;
    finished++;
    options.progress({ done: finished, total: cells.length, skipped, queries });
  };
  const groups = [...new Set(pending.map((c) => c.group))].map((g) => pending.filter((c) => c.group === g));
  const workers = Math.max(1, Math.min(options.parallel, groups.length));
  if (workers === 1) {
    const runner = new GroupRunner(suite, hash, options, suite.oracle.workers ?? 2);
    try {
      for (const group of groups) await runner.run(group, onResult);
    } finally {
      await runner.close();
    }
  } else {
    // The machine's cores are shared: each group worker gets a one-thread oracle pool.
    const data: GroupWorkerData = {
      suite,
      hash,
      paths: { targetsDir: options.targetsDir, cacheDir: options.cacheDir, useCache: options.useCache },
      backend: currentBackendInfo().name,
      oracleWorkers: 1,
      engine: currentEngineInfo(),
    };
    await runGroupsInProcesses(data, groups, workers, onResult);
  }
  return { ran: pending.length, skipped, file };
}
