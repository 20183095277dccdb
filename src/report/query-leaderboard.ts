import { substituteName } from '../records/aggregate.js';
import { rate, round6, type Rate } from '../records/metrics.js';
import type { QueryCellResult } from '../records/queries.js';
import { figureSeed, queryFigures, type Estimate, type QueryFigures } from '../records/query-figures.js';
import type { CellResult } from '../records/results.js';
import { rateCells, rateColumns, type Table } from './leaderboards.js';

/**
 * Transfer and query attacks on one axis: queries per image. A transfer cell costs its
 * substitute's queries shared over the images it serves plus the one query that tests each
 * adversarial image; a query attack costs what the oracle charged per image (at a budget b, an
 * image stops at its success or at b); a hybrid adds its substitute's share.
 */
export interface Entry {
  readonly target: string;
  readonly eps: number;
  readonly norm: string;
  readonly method: string;
  readonly kind: string;
  readonly oracleMode: string;
  readonly success: Rate;
  readonly costPerImage: number;
  /** A query cell's figures at this budget (none for transfer settings). */
  readonly figures?: QueryFigures;
  /** Successes per query of the attack's own queries (a transfer setting's: its one test query per image). */
  readonly successesPerQuery: number;
  /** "counted" or "apart" for query cells; "" for transfer settings. */
  readonly successChecks: string;
}

/** What the query plot and tables read of a transfer cell (results.csv holds all of it). */
export type TransferRecord = Pick<
  CellResult,
  | 'reference'
  | 'target'
  | 'eps'
  | 'attack'
  | 'labelSource'
  | 'strategy'
  | 'architecture'
  | 'budget'
  | 'targetError'
  | 'substituteQueries'
  | 'evaluated'
>;

export function transferCost(r: Pick<CellResult, 'substituteQueries' | 'evaluated'>): number {
  return r.substituteQueries / Math.max(1, r.evaluated) + 1;
}

export function transferEntries(results: readonly TransferRecord[]): Entry[] {
  return results
    .filter((r) => !r.reference)
    .map((r) => ({
      target: r.target,
      eps: r.eps,
      norm: 'linf',
      method: `${r.attack} (${r.labelSource}) from ${substituteName(r)}`,
      kind: 'transfer',
      oracleMode: '',
      success: r.targetError,
      costPerImage: transferCost(r),
      successesPerQuery: r.targetError.value,
      successChecks: '',
    }));
}

export function queryMethod(q: QueryCellResult): string {
  const start = q.start === 'clean' ? '' : ` from ${q.start.slice('transfer:'.length)} on ${q.substitute}`;
  const prior = q.attackKind === 'hybrid' ? ` (prior ${q.substitute})` : '';
  return `${q.attack}${start}${prior} [${q.oracleMode}]`;
}

/**
 * A query cell seen at budget b: success within b, and the queries an image spends when stopped at b (a fooled image
 * its queries to success; another what it was charged, at most b; records without per-image charges: b).
 */
export function atBudget(q: QueryCellResult, budget: number): Entry {
  const fooled = q.queriesToSuccess.filter((n) => n !== null && n <= budget).length;
  const spent = q.queriesToSuccess.map((n, i) =>
    n !== null && n <= budget ? n : Math.min(q.queriesPerImage?.[i] ?? budget, budget),
  );
  const figures = queryFigures(q.queriesToSuccess, q.queriesPerImage ?? [], budget, figureSeed(q.cellId));
  const cost =
    spent.reduce((a, b) => a + b, 0) / Math.max(1, spent.length) + q.substituteQueries / Math.max(1, q.images);
  return {
    target: q.target,
    eps: q.eps,
    norm: q.norm,
    method: queryMethod(q),
    kind: q.attackKind,
    oracleMode: q.oracleMode,
    success: rate(fooled, q.images),
    costPerImage: cost,
    figures,
    successesPerQuery: figures.successesPerQuery.value,
    successChecks: q.countSuccessChecks === false ? 'apart' : 'counted',
  };
}

/**
 * leaderboard-queries.csv: per target, eps and per-image budget, every query attack (its success
 * within the budget) and every transfer setting that costs no more per image, ranked by success.
 */
export function queriesTable(results: readonly CellResult[], queries: readonly QueryCellResult[]): Table {
  const budgets = [...new Set(queries.flatMap((q) => q.curve.map((c) => c.budget)))].sort((a, b) => a - b);
  const transfer = transferEntries(results);
  const keys = [...new Set(queries.map((q) => `${q.target}\u0000${q.eps}\u0000${q.norm}`))];
  const rows: (number | string)[][] = [];
  for (const key of keys) {
    const [target, epsText, norm] = key.split('\u0000') as [string, string, string];
    const eps = Number(epsText);
    for (const budget of budgets) {
      const entries = [
        ...queries
          .filter((q) => q.target === target && q.eps === eps && q.norm === norm && q.budget >= budget)
          .map((q) => atBudget(q, budget)),
        ...(norm === 'linf'
          ? transfer.filter((t) => t.target === target && t.eps === eps && t.costPerImage <= budget)
          : []),
      ].sort(
        (a, b) =>
          b.success.value - a.success.value || a.costPerImage - b.costPerImage || a.method.localeCompare(b.method),
      );
      entries.forEach((e, i) =>
        rows.push([
          target,
          eps,
          norm,
          budget,
          i + 1,
          e.method,
          e.kind,
          e.oracleMode,
          ...rateCells(e.success),
          round6(e.costPerImage),
          ...estimateCells(e.figures?.meanQueriesSuccessful),
          ...estimateCells(e.figures?.medianQueriesSuccessful),
          ...(e.figures ? estimateCells(e.figures.successesPerQuery) : [round6(e.successesPerQuery), '', '']),
          e.successChecks,
        ]),
      );
    }
  }
  return {
    columns: [
      'target',
      'eps',
      'norm',
      'queries_per_image',
      'rank',
      'method',
      'kind',
      'oracle_mode',
      ...rateColumns('success'),
      'cost_per_image',
      ...estimateColumns('mean_queries_successful'),
      ...estimateColumns('median_queries_successful'),
      ...estimateColumns('successes_per_query'),
      'success_checks',
    ],
    rows,
  };
}

/** A bootstrap estimate's columns: the value and its 95% interval. */
export function estimateColumns(prefix: string): string[] {
  return [prefix, `${prefix}_ci_low`, `${prefix}_ci_high`];
}

/** Blank where there is nothing to estimate (no image fooled within the budget, or a transfer setting). */
export function estimateCells(e: Estimate | null | undefined): (number | string)[] {
  return e ? [e.value, e.low, e.high] : ['', '', ''];
}
