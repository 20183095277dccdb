import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TransferbenchError } from '../common/errors.js';
import { currentBackendInfo } from '../compute/backend.js';
import { GroupRunner } from './group.js';
import { lockShard } from './lock.js';
import type { FromGroupWorker, GroupWorkerData, ToGroupWorker } from './group-worker.js';
import { expandGrid, shardCells, suiteHash, type Cell, type Shard } from './grid.js';
import { appendResult, readResults, resultsFile, type CellResult } from '../records/results.js';
import { measureRubbishOfShard } from './rubbish-run.js';
import type { Suite } from './suite.js';

import { targetDescriptorPath } from './group.js';

export { targetDescriptorPath };

export interface RunOptions {
  readonly shard: Shard;
  readonly resume: boolean;
  readonly outDir: string;
  /** Where zoo targets live (targets/<name>/target.json). */
  readonly targetsDir: string;
  readonly cacheDir: string;
  readonly useCache: boolean;
  /** Groups run at once, each in its own worker thread (1: in this thread). */
  readonly parallel: number;
  readonly progress: (event: { done: number; total: number; skipped: number; queries: number }) => void;
}

/**
 * Runs the suite's cells for one shard, appending each finished cell to
 * `<out>/results-K-of-N.jsonl`. Substitutes are obtained once per (target, substitute) group;
 * with `parallel` > 1, independent groups run at once in worker threads. Results do not depend
 * on how groups are scheduled: every CSV is sorted by the suite's cell order.
 */
export async function runSuite(suite: Suite, options: RunOptions): Promise<{ ran: number; skipped: number; file: string }> {
  const hash = suiteHash(suite);
  const cells = shardCells(expandGrid(suite), options.shard);
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(join(options.outDir, 'suite.json'), `${JSON.stringify({ suiteHash: hash, suite }, null, 2)}\n`);
  requireBuiltTargets(cells, options.targetsDir, options.shard);
  const file = resultsFile(options.outDir, options.shard);
  const release = lockShard(`${file}.lock`);
  try {
    return await runLocked(suite, hash, cells, file, options);
  } finally {
    release();
  }
}

/**
 * Fails before any work when a target this shard needs is not on this machine: on a cluster the
 * usual cause is a node without the shared targets folder, and the line must say which.
 */
function requireBuiltTargets(cells: readonly Cell[], targetsDir: string, shard: Shard): void {
  for (const name of new Set(cells.map((c) => c.target))) {
    const path = targetDescriptorPath(name, targetsDir);
    if (!existsSync(path)) {
      const build = name.endsWith('.json') ? 'copy it there' : `build it with \`transferbench targets build --only ${name} --out ${targetsDir}\` or point --targets-dir at the shared folder`;
      throw new TransferbenchError('BAD_CONFIG', `shard ${shard.k}/${shard.n} on node ${hostname()}: target ${name} is not built here (${path} is missing); ${build}`);
    }
  }
}

async function runLocked(suite: Suite, hash: string, cells: Cell[], file: string, options: RunOptions): Promise<{ ran: number; skipped: number; file: string }> {
  if (existsSync(file) && !options.resume) {
    throw new TransferbenchError('BAD_OPTION', `${file} already exists; pass --resume to continue it, or --out another folder`);
  }
  const previous = readResults(file, true);
  if (previous.some((r) => r.suiteHash !== hash)) {
    throw new TransferbenchError('BAD_OPTION', `${file} holds results of another version of suite ${suite.name}; --out another folder or delete it`);
  }
  await measureRubbishOfShard(suite, hash, options);
  const done = new Set(previous.map((r) => r.cellId));
  const pending = cells.filter((c) => !done.has(c.id));
  const skipped = cells.length - pending.length;
  let finished = skipped;
  let queries = 0;
  options.progress({ done: finished, total: cells.length, skipped, queries });
  if (pending.length === 0) return { ran: 0, skipped, file };
  const onResult = (result: CellResult, substituteQueries: number) => {
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
    await runInWorkers(suite, hash, options, groups, workers, onResult);
  }
  return { ran: pending.length, skipped, file };
}

const GROUP_WORKER = new URL('./group-worker.js', import.meta.url);

/** Deals groups to `count` worker threads as they become free; the first error stops the run. */
async function runInWorkers(
  suite: Suite,
  hash: string,
  options: RunOptions,
  groups: Cell[][],
  count: number,
  onResult: (result: CellResult, substituteQueries: number) => void,
): Promise<void> {
  const queue = [...groups];
  const backend = currentBackendInfo().name;
  // The machine's cores are shared: each group worker gets a one-thread oracle pool.
  const data: GroupWorkerData = { suite, hash, paths: { targetsDir: options.targetsDir, cacheDir: options.cacheDir, useCache: options.useCache }, backend, oracleWorkers: 1 };
  const threads = Array.from({ length: count }, () => new Worker(GROUP_WORKER, { workerData: data }));
  try {
    await Promise.all(
      threads.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const next = () => {
              const group = queue.shift();
              if (group === undefined) {
                worker.postMessage({ type: 'stop' } satisfies ToGroupWorker);
                resolve();
              } else {
                worker.postMessage({ type: 'group', cells: group } satisfies ToGroupWorker);
              }
            };
            worker.on('message', (message: FromGroupWorker) => {
              if (message.type === 'ready' || message.type === 'group-done') next();
              else if (message.type === 'result') onResult(message.result, message.substituteQueries);
              else reject(new TransferbenchError('BAD_CONFIG', message.message));
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (queue.length > 0 || code !== 0) reject(new TransferbenchError('BAD_CONFIG', `a group worker stopped (exit code ${code}) with groups left; rerun with --resume`));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
