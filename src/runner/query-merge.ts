import { TransferbenchError } from '../common/errors.js';
import { queryResultFiles, readQueryResults, type QueryCellResult } from '../records/queries.js';
import { expandQueryGrid } from './query-grid.js';
import type { Suite } from './suite.js';

/** Every shard's query-cell records, checked against the suite: one per query cell, none stray. */
export function mergeQueryRecords(dir: string, suite: Suite, hash: string): QueryCellResult[] {
  const cells = expandQueryGrid(suite);
  if (cells.length === 0) return [];
  const records = queryResultFiles(dir).flatMap((f) => readQueryResults(f));
  const wrong = records.find((r) => r.suiteHash !== hash);
  if (wrong)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${dir}: query cell ${wrong.cellId} belongs to suite version ` +
        `${wrong.suiteHash}, not ${hash}; shards of different suites ` +
        `cannot be merged`,
    );
  const count = new Map<string, number>();
  for (const r of records) count.set(r.cellId, (count.get(r.cellId) ?? 0) + 1);
  const repeated = [...count.entries()].find(([, n]) => n > 1);
  if (repeated)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${dir}: query cell ${repeated[0]} appears ${repeated[1]} times; remove the repeated shard file`,
    );
  const missing = cells.filter((c) => !count.has(c.id));
  if (missing.length > 0)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${dir}: ${missing.length} of ${cells.length} query cells have ` +
        `no result (e.g. query cell ${missing[0]?.index} ${missing[0]?.id}); ` +
        `run the missing shards (with --resume) before merging`,
    );
  const known = new Set(cells.map((c) => c.id));
  if (records.some((r) => !known.has(r.cellId)))
    throw new TransferbenchError('BAD_CONFIG', `${dir}: query records belong to no query cell of the suite`);
  return records.sort((a, b) => a.index - b.index);
}
