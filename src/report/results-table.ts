import { parse } from 'csv-parse/sync';
import { rate } from '../records/metrics.js';
import type { CellResult } from '../records/results.js';
import { optionalRateCells, rateCells, rateColumns, type Table } from './table.js';

/** Columns whose values differ between runs of the same cell (timings): comparisons of runs skip them. */
export const VOLATILE_COLUMNS = ['crafting_seconds', 'images_per_second'] as const;

/** CSV text without the volatile columns, for comparing runs (parsed as CSV: labels may hold quoted commas). */
export function withoutVolatileColumns(text: string): string {
  const rows = parse(text) as string[][];
  const keep = (rows[0] ?? [])
    .map((c, i) => ((VOLATILE_COLUMNS as readonly string[]).includes(c) ? -1 : i))
    .filter((i) => i >= 0);
  return rows.map((row) => JSON.stringify(keep.map((i) => row[i]))).join('\n');
}

export const RESULTS_COLUMNS: readonly string[] = [
  'cell',
  'cell_id',
  'target',
  'strategy',
  'architecture',
  'budget',
  'reference',
  'attack',
  'attack_kind',
  'eps',
  'label_source',
  'evaluated',
  ...rateColumns('target_error'),
  ...rateColumns('transfer_rate'),
  ...rateColumns('white_box_success'),
  ...rateColumns('target_clean_accuracy'),
  ...rateColumns('substitute_clean_accuracy'),
  'substitute_queries',
  'substitute_fidelity',
  'mean_linf',
  'max_linf',
  'mean_l2',
  'max_l2',
  'target_mean_confidence',
  'composition',
  ...rateColumns('attack_success'),
  'attack_params',
  'target_class',
  ...rateColumns('targeted_success'),
  'mean_psnr',
  'mean_ssim',
  'target_defence',
  'defence_passes_per_query',
  'strategy_params',
  'target_fooled',
  'substitute_fooled',
  'replicate',
  'seed',
  ...VOLATILE_COLUMNS,
];

/**
 * One cell's row of results.csv. The attack success rate (on the images the target gets right
 * when clean) and the crafting time come last; the timings differ between runs and machines, so
 * comparisons of runs skip them (VOLATILE_COLUMNS).
 */
export function resultsRow(r: CellResult): (number | string | boolean)[] {
  return [
    r.index,
    r.cellId,
    r.target,
    r.strategy,
    r.architecture,
    r.budget,
    r.reference,
    r.attack,
    r.attackKind,
    r.eps,
    r.labelSource,
    r.evaluated,
    ...rateCells(r.targetError),
    ...rateCells(r.transferRate),
    ...rateCells(r.whiteBoxSuccess),
    ...rateCells(r.targetCleanAccuracy),
    ...rateCells(r.substituteCleanAccuracy),
    r.substituteQueries,
    r.substituteFidelity,
    r.meanLinf,
    r.maxLinf,
    r.meanL2,
    r.maxL2,
    r.targetMeanConfidence ?? '',
    r.composition ?? r.attack,
    ...optionalRateCells(r.attackSuccess),
    r.attackParams ? JSON.stringify(r.attackParams) : '',
    r.targetClass ?? '',
    // Numeric columns are never empty (pandas reads them as numbers): an untargeted cell's targeted success is 0 of 0.
    ...rateCells(r.targetedSuccess ?? rate(0, 0)),
    r.meanPsnr ?? '',
    r.meanSsim ?? '',
    r.targetDefence ?? '',
    r.defencePassesPerQuery ?? 1,
    r.strategyParams ? JSON.stringify(r.strategyParams) : '',
    r.targetFooled ?? '',
    r.substituteFooled ?? '',
    r.replicate ?? 0,
    r.seed ?? '',
    r.craftingSeconds ?? '',
    r.imagesPerSecond ?? '',
  ];
}

/** One row per cell, in the suite's order. */
export function resultsTable(results: readonly CellResult[]): Table {
  return { columns: RESULTS_COLUMNS, rows: [...results].sort((a, b) => a.index - b.index).map(resultsRow) };
}
