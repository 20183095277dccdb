import { stringify } from 'csv-stringify/sync';
import { groupBy, pooled, substituteName } from '../records/aggregate.js';
import { rate, round6, type Rate } from '../records/metrics.js';
import type { CellResult } from '../records/results.js';
import type { RubbishResult } from '../records/rubbish.js';

/** A CSV table as data: column names and rows of numbers and strings. */
export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (number | string | boolean)[])[];
}

/** A rate as five columns: value, numerator, denominator, Wilson 95% low and high. */
export function rateColumns(prefix: string): string[] {
  return [prefix, `${prefix}_num`, `${prefix}_den`, `${prefix}_ci_low`, `${prefix}_ci_high`];
}
export function rateCells(r: Rate): number[] {
  return [round6(r.value), r.numerator, r.denominator, round6(r.low), round6(r.high)];
}
/** A rate a record may lack (results written before it existed): empty cells then. */
function optionalRateCells(r: Rate | undefined): (number | string)[] {
  return r === undefined ? ['', '', '', '', ''] : rateCells(r);
}

/** Columns whose values differ between runs of the same cell (timings): comparisons of runs skip them. */
export const VOLATILE_COLUMNS = ['crafting_seconds', 'images_per_second'] as const;

/** CSV text without the volatile columns, for comparing runs (cells of these files hold no commas or quotes). */
export function withoutVolatileColumns(text: string): string {
  const lines = text.split('\n');
  const keep = (lines[0] ?? '').split(',').map((c, i) => ((VOLATILE_COLUMNS as readonly string[]).includes(c) ? -1 : i)).filter((i) => i >= 0);
  return lines.map((line) => (line === '' ? line : keep.map((i) => line.split(',')[i]).join(','))).join('\n');
}

/**
 * One row per cell, in the suite's order. The attack success rate (on the images the target gets
 * right when clean) and the crafting time come last; the timings differ between runs and
 * machines, so comparisons of runs skip them (VOLATILE_COLUMNS).
 */
export function resultsTable(results: readonly CellResult[]): Table {
  const sorted = [...results].sort((a, b) => a.index - b.index);
  return {
    columns: [
      'cell', 'cell_id', 'target', 'strategy', 'architecture', 'budget', 'reference', 'attack', 'attack_kind', 'eps', 'label_source', 'evaluated',
      ...rateColumns('target_error'), ...rateColumns('transfer_rate'), ...rateColumns('white_box_success'),
      ...rateColumns('target_clean_accuracy'), ...rateColumns('substitute_clean_accuracy'),
      'substitute_queries', 'substitute_fidelity', 'mean_linf', 'max_linf', 'mean_l2', 'max_l2', 'target_mean_confidence',
      'composition', ...rateColumns('attack_success'), ...VOLATILE_COLUMNS,
    ],
    rows: sorted.map((r) => [
      r.index, r.cellId, r.target, r.strategy, r.architecture, r.budget, r.reference, r.attack, r.attackKind, r.eps, r.labelSource, r.evaluated,
      ...rateCells(r.targetError), ...rateCells(r.transferRate), ...rateCells(r.whiteBoxSuccess),
      ...rateCells(r.targetCleanAccuracy), ...rateCells(r.substituteCleanAccuracy),
      r.substituteQueries, r.substituteFidelity, r.meanLinf, r.maxLinf, r.meanL2, r.maxL2, r.targetMeanConfidence ?? '',
      r.composition ?? r.attack, ...optionalRateCells(r.attackSuccess), r.craftingSeconds ?? '', r.imagesPerSecond ?? '',
    ]),
  };
}

/** Robustness: per target and eps, the worst target error over attack settings (white-box shown apart). */
export function targetsTable(results: readonly CellResult[]): Table {
  const rows = [...groupBy(results, (r) => `${r.target}\u0000${r.eps}`).values()].map((group) => {
    const attacks = group.filter((r) => !r.reference);
    const worst = attacks.reduce<CellResult | undefined>((w, r) => (w === undefined || r.targetError.value > w.targetError.value ? r : w), undefined);
    const whiteBox = group.filter((r) => r.reference).reduce<CellResult | undefined>((w, r) => (w === undefined || r.targetError.value > w.targetError.value ? r : w), undefined);
    const first = group[0] as CellResult;
    return {
      target: first.target,
      eps: first.eps,
      worst,
      cells: [
        first.target, first.eps, ...rateCells(worst?.targetError ?? rate(0, 0)), worst ? `${worst.attack} (${worst.labelSource}) from ${substituteName(worst)}` : '',
        ...rateCells(first.targetCleanAccuracy), whiteBox ? round6(whiteBox.targetError.value) : '',
      ],
    };
  });
  rows.sort((a, b) => (a.target === b.target ? a.eps - b.eps : (a.worst?.targetError.value ?? 0) - (b.worst?.targetError.value ?? 0) || a.target.localeCompare(b.target)));
  const order = [...new Set(rows.map((r) => r.target))];
  const ranked = order.flatMap((t, i) => rows.filter((r) => r.target === t).map((r) => [i + 1, ...r.cells]));
  return {
    columns: ['rank', 'target', 'eps', ...rateColumns('worst_target_error'), 'worst_setting', ...rateColumns('clean_accuracy'), 'white_box_error'],
    rows: ranked,
  };
}

/**
 * Attacks (by label source) ranked by pooled transfer rate over every non-reference cell (the
 * `ranked_by` column says so), with the pooled attack success rate on the images each target
 * classifies correctly when clean (TransferAttack's figure) beside it.
 */
export function attacksTable(results: readonly CellResult[]): Table {
  const groups = [...groupBy(results.filter((r) => !r.reference), (r) => `${r.attack}\u0000${r.labelSource}`).values()];
  const rows = groups.map((g) => {
    const first = g[0] as CellResult;
    const transfer = pooled(g.map((r) => r.transferRate));
    const error = pooled(g.map((r) => r.targetError));
    const whiteBox = pooled(g.map((r) => r.whiteBoxSuccess));
    const meanTransfer = g.reduce((s, r) => s + r.transferRate.value, 0) / g.length;
    const successes = g.map((r) => r.attackSuccess).filter((r): r is Rate => r !== undefined);
    const success = successes.length === g.length ? rateCells(pooled(successes)) : optionalRateCells(undefined);
    return {
      transfer,
      cells: [first.attack, first.attackKind, first.labelSource, g.length, round6(meanTransfer), ...rateCells(transfer), ...rateCells(error), ...rateCells(whiteBox), first.composition ?? first.attack, ...success, 'pooled_transfer_rate'],
    };
  });
  rows.sort((a, b) => b.transfer.value - a.transfer.value || String(a.cells[0]).localeCompare(String(b.cells[0])) || String(a.cells[2]).localeCompare(String(b.cells[2])));
  return {
    columns: [
      'rank', 'attack', 'kind', 'label_source', 'cells', 'mean_transfer_rate', ...rateColumns('pooled_transfer_rate'), ...rateColumns('pooled_target_error'), ...rateColumns('pooled_white_box_success'),
      'composition', ...rateColumns('pooled_attack_success'), 'ranked_by',
    ],
    rows: rows.map((r, i) => [i + 1, ...r.cells]),
  };
}

/**
 * Substitutes ranked by transfer per 1,000 queries: target errors caused per 1,000 queries the
 * substitute cost. Zero-query substitutes (ground truth, the white-box reference) have no such
 * figure and follow, ranked by their transfer rate.
 */
export function substitutesTable(results: readonly CellResult[]): Table {
  const groups = [...groupBy(results, substituteName).values()];
  const rows = groups.map((g) => {
    const first = g[0] as CellResult;
    const transfer = pooled(g.map((r) => r.transferRate));
    const error = pooled(g.map((r) => r.targetError));
    const queries = [...new Map(g.map((r) => [r.target, r.substituteQueries])).values()].reduce((s, q) => s + q, 0) / new Set(g.map((r) => r.target)).size;
    const per1000 = queries > 0 ? round6((transfer.value * 1000) / queries) : '';
    const fidelity = g.reduce((s, r) => s + r.substituteFidelity, 0) / g.length;
    return { per1000, transfer, cells: [first.strategy, first.architecture, first.budget, first.reference, round6(queries), per1000, ...rateCells(transfer), ...rateCells(error), round6(fidelity)] };
  });
  rows.sort((a, b) => {
    if (a.per1000 === '' && b.per1000 !== '') return 1;
    if (b.per1000 === '' && a.per1000 !== '') return -1;
    if (typeof a.per1000 === 'number' && typeof b.per1000 === 'number' && a.per1000 !== b.per1000) return b.per1000 - a.per1000;
    return b.transfer.value - a.transfer.value || String(a.cells[0]).localeCompare(String(b.cells[0]));
  });
  return {
    columns: ['rank', 'strategy', 'architecture', 'budget', 'reference', 'mean_queries', 'transfer_per_1000_queries', ...rateColumns('pooled_transfer_rate'), ...rateColumns('pooled_target_error'), 'mean_fidelity'],
    rows: rows.map((r, i) => [i + 1, ...r.cells]),
  };
}

/** Pooled transfer rate, substitute (rows) x target (columns). */
export function transferMatrix(results: readonly CellResult[]): Table {
  const targets = [...new Set([...results].sort((a, b) => a.index - b.index).map((r) => r.target))];
  const substitutes = [...new Set([...results].sort((a, b) => a.index - b.index).map(substituteName))];
  return {
    columns: ['substitute', ...targets],
    rows: substitutes.map((s) => [
      s,
      ...targets.map((t) => {
        const cells = results.filter((r) => substituteName(r) === s && r.target === t);
        return cells.length === 0 ? '' : round6(pooled(cells.map((r) => r.transferRate)).value);
      }),
    ]),
  };
}

/** Rubbish-class inputs (Goodfellow et al.): per target, in the order given, how confidently it classifies noise. */
export function rubbishTable(results: readonly RubbishResult[], targetOrder: readonly string[]): Table {
  const sorted = [...results].sort((a, b) => targetOrder.indexOf(a.target) - targetOrder.indexOf(b.target));
  return {
    columns: ['target', 'samples', 'noise_mean', 'noise_std', 'threshold', ...rateColumns('classified'), 'mean_confidence', 'top_class', 'top_class_share'],
    rows: sorted.map((r) => [r.target, r.samples, r.mean, r.std, r.threshold, ...rateCells(r.classified), r.meanConfidence, r.topClass, r.topClassShare]),
  };
}

/** CSV bytes: a header, numbers as numbers, text that could be read as a formula escaped. */
export function toCsv(table: Table): string {
  return stringify([table.columns as string[], ...(table.rows as (number | string | boolean)[][])], {
    cast: {
      boolean: (v) => (v ? 'true' : 'false'),
      string: (v) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v),
    },
  });
}

/**
 * Every leaderboard of a set of results, by file name, in the order a report shows them.
 * Results are put in the suite's cell order first: shards and parallel workers finish cells in
 * any order, and ties and floating-point sums must not depend on it. The rubbish-class table is
 * there when rubbish records are given; its targets follow the suite's order, the order targets
 * first appear in the cells.
 */
export function leaderboardTables(unordered: readonly CellResult[], rubbish?: readonly RubbishResult[]): Record<string, Table> {
  const results = [...unordered].sort((a, b) => a.index - b.index);
  return {
    ...(rubbish !== undefined ? { 'rubbish.csv': rubbishTable(rubbish, [...new Set(results.map((r) => r.target))]) } : {}),
    'leaderboard-attacks.csv': attacksTable(results),
    'leaderboard-substitutes.csv': substitutesTable(results),
    'leaderboard-targets.csv': targetsTable(results),
    'transfer-matrix.csv': transferMatrix(results),
    'results.csv': resultsTable(results),
  };
}

/** Every leaderboard as CSV bytes, by file name. */
export function leaderboards(results: readonly CellResult[], rubbish?: readonly RubbishResult[]): Record<string, string> {
  return Object.fromEntries(Object.entries(leaderboardTables(results, rubbish)).map(([name, table]) => [name, toCsv(table)]));
}
