import {
  clusteredDifference,
  clusteredRate,
  holm,
  mcnemarExact,
  newcombePaired,
  type PairedCounts,
} from '../common/stats.js';
import { hexFlags, round6, type Rate } from '../records/metrics.js';
import type { Table } from './table.js';

/** A pooled rate kept per replicate as well, for the two-level interval (clusteredRate). */
export class ReplicatedPool {
  private readonly replicates = new Map<number, { numerator: number; denominator: number }>();

  add(r: Rate, replicate = 0): void {
    const pool = this.replicates.get(replicate) ?? { numerator: 0, denominator: 0 };
    pool.numerator += r.numerator;
    pool.denominator += r.denominator;
    this.replicates.set(replicate, pool);
  }

  /** Replicates seen, the two-level 95% interval and the share of variance from retraining ('' below 2 replicates). */
  cells(): (number | string)[] {
    const r = clusteredRate([...this.replicates.values()]);
    return r === undefined
      ? [this.replicates.size, '', '', '']
      : [r.replicates, round6(r.low), round6(r.high), round6(r.retrainingShare)];
  }
}

/** The columns of ReplicatedPool.cells for a rate column `prefix`. */
export function twoLevelColumns(prefix: string): string[] {
  return ['replicates', `${prefix}_two_level_low`, `${prefix}_two_level_high`, `${prefix}_retraining_share`];
}

/**
 * Each cell's per-image target outcomes (flagsHex text) by what pairs it with a cell of another
 * leaderboard entry: the same target, images and replicate, and everything else the two
 * entries share (see the pairing keys in leaderboards.ts).
 */
export class PairedFlags {
  readonly cells = new Map<string, { flags: string; images: number; replicate: number; eps: number }>();

  add(key: string, flags: string | undefined, images: number, at: { replicate?: number; eps: number }): void {
    if (flags !== undefined) this.cells.set(key, { flags, images, replicate: at.replicate ?? 0, eps: at.eps });
  }
}

type ReplicateCounts = { onlyFirst: number; onlySecond: number; pairs: number };

/**
 * Both, only-first, only-second and neither over the cells two entries share (at one eps when
 * given), image by image, and the discordant counts of each replicate.
 */
export function pairedCounts(
  first: PairedFlags,
  second: PairedFlags,
  eps?: number,
): PairedCounts & { cells: number; replicates: Map<number, ReplicateCounts> } {
  const counts = { both: 0, onlyFirst: 0, onlySecond: 0, neither: 0, cells: 0 };
  const replicates = new Map<number, ReplicateCounts>();
  for (const [key, a] of first.cells) {
    const b = second.cells.get(key);
    if (b === undefined || b.images !== a.images || (eps !== undefined && a.eps !== eps)) continue;
    counts.cells++;
    const before = { onlyFirst: counts.onlyFirst, onlySecond: counts.onlySecond };
    const fa = hexFlags(a.flags, a.images);
    const fb = hexFlags(b.flags, b.images);
    for (let i = 0; i < a.images; i++) {
      if (fa[i] && fb[i]) counts.both++;
      else if (fa[i]) counts.onlyFirst++;
      else if (fb[i]) counts.onlySecond++;
      else counts.neither++;
    }
    const r = replicates.get(a.replicate) ?? { onlyFirst: 0, onlySecond: 0, pairs: 0 };
    r.onlyFirst += counts.onlyFirst - before.onlyFirst;
    r.onlySecond += counts.onlySecond - before.onlySecond;
    r.pairs += a.images;
    replicates.set(a.replicate, r);
  }
  return { ...counts, replicates };
}

export const COMPARISON_COLUMNS = [
  'leaderboard',
  'rank_a',
  'entry_a',
  'rank_b',
  'entry_b',
  'paired_cells',
  'paired_images',
  'both_fooled',
  'only_a_fooled',
  'only_b_fooled',
  'neither_fooled',
  'difference',
  'difference_ci_low',
  'difference_ci_high',
  'mcnemar_p',
  'replicates',
  'difference_two_level_low',
  'difference_two_level_high',
  'two_level_p',
  'tested_by',
  'holm_p',
  'separated',
] as const;

/** Separated at 95% after Holm's adjustment over a leaderboard's neighbouring pairs. */
const ALPHA = 0.05;

/**
 * A leaderboard's neighbouring ranks compared image by image: for ranks k and k+1, the difference
 * in the target's error on the adversarial images over the cells both entries share (same
 * target, images, replicate and other settings; at one eps when given), with Newcombe's paired
 * interval and McNemar's exact test. With two replicates or more the test is the replicate-level
 * one (clusteredDifference): McNemar treats every image pair as independent, which retraining
 * makes false, as the one-level Wilson interval is for rates. The tests are Holm-adjusted over
 * the leaderboard's pairs, and rank groups follow: a new group starts where a pair is separated,
 * so entries of one group are not told apart at 95%. Entries come in rank order; the groups are
 * returned one per entry.
 */
export function compareNeighbours(
  leaderboard: string,
  entries: readonly { readonly name: string; readonly flags: PairedFlags }[],
  eps?: number,
): { rows: (number | string | boolean)[][]; groups: number[] } {
  const pairs = entries.slice(1).map((b, i) => {
    const a = entries[i] as (typeof entries)[number];
    const counts = pairedCounts(a.flags, b.flags, eps);
    const mcnemar = mcnemarExact(counts.onlyFirst, counts.onlySecond);
    const twoLevel = clusteredDifference([...counts.replicates.values()]);
    return { a, b, rank: i + 1, counts, mcnemar, twoLevel, p: twoLevel?.p ?? mcnemar };
  });
  const adjusted = holm(pairs.map((p) => p.p));
  const groups = entries.length > 0 ? [1] : [];
  const rows = pairs.map((pair, i) => {
    const holmP = adjusted[i] as number;
    const images = pair.counts.both + pair.counts.onlyFirst + pair.counts.onlySecond + pair.counts.neither;
    const separated = images > 0 && holmP < ALPHA;
    groups.push((groups[i] as number) + (separated ? 1 : 0));
    const d = newcombePaired(pair.counts);
    return [
      leaderboard,
      pair.rank,
      pair.a.name,
      pair.rank + 1,
      pair.b.name,
      pair.counts.cells,
      images,
      pair.counts.both,
      pair.counts.onlyFirst,
      pair.counts.onlySecond,
      pair.counts.neither,
      round6(d.difference),
      round6(d.low),
      round6(d.high),
      round6(pair.mcnemar),
      pair.counts.replicates.size,
      pair.twoLevel ? round6(pair.twoLevel.low) : '',
      pair.twoLevel ? round6(pair.twoLevel.high) : '',
      pair.twoLevel ? round6(pair.twoLevel.p) : '',
      pair.twoLevel ? 'replicates-t' : 'mcnemar-exact',
      round6(holmP),
      separated,
    ];
  });
  return { rows, groups };
}

/** comparisons.csv: every leaderboard's neighbouring pairs, one table. */
export function comparisonsTable(parts: readonly (readonly (number | string | boolean)[])[][]): Table {
  return { columns: COMPARISON_COLUMNS, rows: parts.flat() };
}
