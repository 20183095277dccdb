import { basename } from 'node:path';
import { TransferbenchError } from '../common/errors.js';
import { ledgerFiles, readLedger, type LedgerEntry } from '../records/ledger.js';
import type { QueryCellResult } from '../records/queries.js';
import type { CellResult } from '../records/results.js';
import { round6 } from '../records/metrics.js';

/** Every record must agree with the oracle's ledger: what the oracle charged, not what anyone reported. */
const ADVICE = 'the record was edited or comes from another run: rerun its shard into a fresh --out';

/**
 * The oracle's ledgers of a run folder, held for merge: transfer cells' charges by index (4 bytes
 * a cell, as merge keeps no object per cell), query cells' per-image charges by id.
 */
export class LedgerIndex {
  private constructor(
    private readonly dir: string,
    private readonly evaluation: Int32Array,
    /** Transfer cells' substitute-training charges by index; NaN where the ledger predates them. */
    private readonly substituteTraining: Float64Array,
    private readonly queries: ReadonlyMap<string, LedgerEntry>,
  ) {}

  /** The folder's ledgers, or undefined when it has none (results written before ledgers existed). */
  static read(
    dir: string,
    suiteHash: string,
    transferCells: number,
    idAt: (index: number) => string,
  ): LedgerIndex | undefined {
    const files = ledgerFiles(dir);
    if (files.length === 0) return undefined;
    const evaluation = new Int32Array(transferCells).fill(-1);
    const substituteTraining = new Float64Array(transferCells).fill(Number.NaN);
    const queries = new Map<string, LedgerEntry>();
    for (const file of files) {
      for (const entry of readLedger(file)) {
        if (entry.suiteHash !== suiteHash)
          throw new TransferbenchError(
            'BAD_CONFIG',
            `${file}: holds the ledger of suite version ${String(entry.suiteHash)}, not ${suiteHash}; ` +
              'shards of different suites cannot be merged',
          );
        const repeated = () =>
          new TransferbenchError(
            'BAD_CONFIG',
            `${dir}: the oracle's ledger has more than one entry for ${entry.kind} cell ${entry.cellId} ` +
              `(again in ${basename(file)}); remove the repeated ledger file`,
          );
        if (entry.kind === 'query') {
          if (queries.has(entry.cellId)) throw repeated();
          queries.set(entry.cellId, entry);
          continue;
        }
        const index = entry.index;
        const known = entry.kind === 'transfer' && Number.isInteger(index) && index >= 0 && index < transferCells;
        if (!known || idAt(index) !== entry.cellId || typeof entry.evaluation !== 'number')
          throw new TransferbenchError(
            'BAD_CONFIG',
            `${file}: an entry (${entry.kind} cell ${entry.cellId} at index ${entry.index}) belongs to no cell of ` +
              'the suite; the ledger was edited or comes from another suite',
          );
        if ((evaluation[index] as number) >= 0) throw repeated();
        evaluation[index] = entry.evaluation;
        if (typeof entry.substituteTraining === 'number') substituteTraining[index] = entry.substituteTraining;
      }
    }
    return new LedgerIndex(dir, evaluation, substituteTraining, queries);
  }

  private missing(kind: string, cellId: string, file: string): TransferbenchError {
    return new TransferbenchError(
      'BAD_CONFIG',
      `${file}: ${kind} cell ${cellId} has a result but no entry in the oracle's ledger ` +
        `(${basename(file).replace(/^(results|queries)-/, 'ledger-')}); the ledger was deleted or cut: ` +
        'rerun its shard into a fresh --out',
    );
  }

  /** A transfer record: the images it says it evaluated are the evaluation queries the oracle charged for it. */
  checkTransfer(file: string, record: Pick<CellResult, 'cellId' | 'index' | 'evaluated' | 'substituteQueries'>): void {
    const charged = this.evaluation[record.index] as number;
    if (charged < 0) throw this.missing('transfer', record.cellId, file);
    if (record.evaluated !== charged)
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${file}: cell ${record.cellId} reports ${String(record.evaluated)} evaluated images, the oracle's ledger ` +
          `charged ${charged} evaluation queries for them; ${ADVICE}`,
      );
    const training = this.substituteTraining[record.index] as number;
    if (!Number.isNaN(training) && record.substituteQueries !== training)
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${file}: cell ${record.cellId} reports ${String(record.substituteQueries)} substitute-training queries, ` +
          `the oracle's ledger charged ${training}; ${ADVICE}`,
      );
  }

  /** Query records: their per-image query statistics recomputed from what the oracle charged each image. */
  checkQueries(records: readonly QueryCellResult[]): void {
    for (const r of records) {
      const entry = this.queries.get(r.cellId);
      if (entry?.attack === undefined) throw this.missing('query', r.cellId, `${this.dir}/queries-K-of-N.jsonl`);
      const charged = entry.attack;
      const refuse = (what: string) =>
        new TransferbenchError('BAD_CONFIG', `${this.dir}: query cell ${r.cellId} ${what}; ${ADVICE}`);
      if (entry.substituteTraining !== undefined && entry.substituteTraining !== r.substituteQueries)
        throw refuse(
          `reports ${r.substituteQueries} substitute-training queries, the oracle's ledger charged ` +
            `${entry.substituteTraining}`,
        );
      if (charged.length !== r.images)
        throw refuse(`attacked ${r.images} images, the oracle's ledger charged ${charged.length}`);
      charged.forEach((n, i) => {
        if (n > r.budget)
          throw refuse(`has image ${i} charged ${n} queries in the oracle's ledger, above its budget ${r.budget}`);
        const toSuccess = r.queriesToSuccess[i];
        if (toSuccess !== null && toSuccess !== undefined && toSuccess > n)
          throw refuse(`says image ${i} succeeded after ${toSuccess} queries, the oracle's ledger charged it ${n}`);
      });
      const mean = round6(charged.reduce((a, b) => a + b, 0) / Math.max(1, charged.length));
      if (mean !== r.meanQueries)
        throw refuse(`reports ${r.meanQueries} queries per image on average, the oracle's ledger charged ${mean}`);
      const sorted = [...charged].sort((a, b) => a - b);
      const half = sorted.length / 2;
      const median =
        sorted.length === 0
          ? 0
          : sorted.length % 2 === 1
            ? (sorted[(sorted.length - 1) / 2] as number)
            : ((sorted[half - 1] as number) + (sorted[half] as number)) / 2;
      if (round6(median) !== r.medianQueries)
        throw refuse(`reports a median of ${r.medianQueries} queries per image, the oracle's ledger charged ${median}`);
    }
  }
}
