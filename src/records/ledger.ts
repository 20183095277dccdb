import { appendJsonLine, atomicWrite, readJsonLines } from '../common/files.js';
import { shardFile, shardFiles } from './results.js';

/** The cells a ledger entry can belong to: transfer cells and query-attack cells (two index spaces). */
export const LEDGER_KINDS = ['transfer', 'query'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/**
 * What the oracle charged for one finished cell, read from the oracle's own counters, never from
 * the attack's tally or the record being written. Written to `ledger-K-of-N.jsonl` beside the
 * shard's results, just before the cell's result line; merge checks every record against it.
 */
export interface LedgerEntry {
  readonly kind: LedgerKind;
  readonly cellId: string;
  /** The cell's position in its kind's stable order. */
  readonly index: number;
  readonly suiteHash: string;
  /** Transfer cells: evaluation queries the target's oracle charged for the cell's adversarial images. */
  readonly evaluation?: number;
  /** Query cells: attack queries the oracle charged to each attacked image (ids 0 .. images-1). */
  readonly attack?: readonly number[];
  /**
   * Substitute-training queries behind the cell's surrogate (a sum over an ensemble's members or a query cell's
   * guides), as the training oracle's own counter measured them when the substitute was trained, and the substitute
   * cache kept them. Absent in ledgers written before it was recorded.
   */
  readonly substituteTraining?: number;
}

export function ledgerFile(dir: string, shard: { k: number; n: number }): string {
  return shardFile(dir, 'ledger', shard);
}

export function ledgerFiles(dir: string): string[] {
  return shardFiles(dir, 'ledger');
}

export function appendLedger(file: string, entry: LedgerEntry): void {
  appendJsonLine(file, entry, "the oracle's ledger entry");
}

export function readLedger(file: string, repair = false): LedgerEntry[] {
  return readJsonLines<LedgerEntry>(file, repair);
}

/**
 * Keeps only the entries of cells whose result line was written. A run killed (or out of disk)
 * between a cell's ledger line and its result line leaves an entry the resumed run writes again;
 * dropping it first keeps a resumed ledger byte-identical to an uninterrupted one.
 */
export function reconcileLedger(file: string, finished: (entry: LedgerEntry) => boolean): void {
  const entries = readLedger(file, true);
  const kept = entries.filter(finished);
  if (kept.length === entries.length) return;
  atomicWrite(file, kept.map((e) => `${JSON.stringify(e)}\n`).join(''), "the oracle's ledger");
}

/**
 * Rewrites a finished shard's ledger in the suite's order (transfer cells, then query cells, each
 * by index): its bytes then depend neither on how groups were scheduled nor on kills and resumes.
 */
export function sortLedger(file: string): void {
  const entries = readLedger(file);
  if (entries.length === 0) return;
  const rank = (e: LedgerEntry) => LEDGER_KINDS.indexOf(e.kind);
  entries.sort((a, b) => rank(a) - rank(b) || a.index - b.index);
  atomicWrite(file, entries.map((e) => `${JSON.stringify(e)}\n`).join(''), "the oracle's ledger");
}

/** A ledger entry's key: kind and cell id (query and transfer cells are numbered apart). */
export function ledgerKey(entry: Pick<LedgerEntry, 'kind' | 'cellId'>): string {
  return `${entry.kind}/${entry.cellId}`;
}
