import { existsSync } from 'node:fs';
import { TransferbenchError } from '../common/errors.js';
import { appendJsonLine } from '../common/files.js';
import { loadSplit, parseDatasetSpec, takeEvaluation } from '../data/index.js';
import { appendLedger, ledgerFile } from '../records/ledger.js';
import { queriesFile, readQueryResults } from '../records/queries.js';
import type { GroupPaths } from './group.js';
import type { Shard } from './grid.js';
import { QueryCellRunner } from './query-cell.js';
import { expandQueryGrid, shardQueryCells } from './query-grid.js';
import type { Suite } from './suite.js';

/**
 * Runs the suite's query cells this shard owns, appending each finished cell to
 * `<out>/queries-K-of-N.jsonl` (fsynced, like transfer cells); a resumed run skips the cells
 * already there.
 */
export async function runQueryCellsOfShard(
  suite: Suite,
  hash: string,
  options: GroupPaths & {
    shard: Shard;
    outDir: string;
    resume: boolean;
    progress?: (event: { done: number; total: number; skipped: number; queries: number }) => void;
  },
): Promise<{ ran: number; skipped: number }> {
  const cells = shardQueryCells(expandQueryGrid(suite), options.shard);
  if (cells.length === 0) return { ran: 0, skipped: 0 };
  const file = queriesFile(options.outDir, options.shard);
  if (existsSync(file) && !options.resume)
    throw new TransferbenchError(
      'BAD_OPTION',
      `${file} already exists; pass --resume to continue it, or --out another folder`,
    );
  const previous = readQueryResults(file, true);
  if (previous.some((r) => r.suiteHash !== hash))
    throw new TransferbenchError(
      'BAD_OPTION',
      `${file} holds results of another version of suite ${suite.name}; --out another folder or delete it`,
    );
  const done = new Set(previous.map((r) => r.cellId));
  const pending = cells.filter((c) => !done.has(c.id));
  if (pending.length === 0) return { ran: 0, skipped: cells.length };
  const split = loadSplit(parseDatasetSpec(suite.dataset), suite.seed);
  const data = {
    evaluation: takeEvaluation(split.test, suite.evaluationSize, `suite ${suite.name}: evaluationSize`),
    attacker: split.train,
  };
  const runner = new QueryCellRunner(suite, hash, options, data, suite.oracle.workers ?? 2);
  const skipped = cells.length - pending.length;
  let queries = 0;
  try {
    for (const [k, cell] of pending.entries()) {
      const { result, charged } = await runner.run(cell);
      appendLedger(ledgerFile(options.outDir, options.shard), charged);
      appendJsonLine(file, result);
      // The mean is rounded to 6 places in the record: the product is whole queries only up to that rounding.
      queries += Math.round(result.meanQueries * result.images);
      options.progress?.({ done: skipped + k + 1, total: cells.length, skipped, queries });
    }
  } finally {
    await runner.close();
  }
  return { ran: pending.length, skipped };
}
