import type { TopLevelSpec } from 'vega-lite';
import { round6 } from '../records/metrics.js';
import type { QueryCellResult } from '../records/queries.js';
import { figureSeed, queryFigures } from '../records/query-figures.js';
import type { CellResult } from '../records/results.js';
import { rateCells, rateColumns, type Table } from './leaderboards.js';
import type { PlotSpec } from './plots.js';
import { queriesTable, queryMethod, transferEntries, type TransferRecord } from './query-leaderboard.js';

export { queriesTable, queryMethod, transferCost, type TransferRecord } from './query-leaderboard.js';

/** Success of a query cell within q queries per image, at the points of a log grid up to its budget. */
function curvePoints(q: QueryCellResult): { queries: number; success: number }[] {
  const points: number[] = [];
  for (let x = 1; x < q.budget; x = Math.ceil(x * 1.25)) points.push(x);
  points.push(q.budget);
  return points.map((b) => ({
    queries: b + q.substituteQueries / Math.max(1, q.images),
    success: round6(q.queriesToSuccess.filter((n) => n !== null && n <= b).length / Math.max(1, q.images)),
  }));
}

/**
 * crossover-queries.csv: per target, eps and oracle mode, the best transfer setting, and the
 * fewest queries per image at which a query attack (any, hybrids included; and a pure one, from
 * the clean image without a substitute) passes its success (blank: never within the budget).
 */
export function crossoverTable(results: readonly CellResult[], queries: readonly QueryCellResult[]): Table {
  const transfer = transferEntries(results);
  const rows: (number | string)[][] = [];
  const keys = [
    ...new Set(queries.filter((q) => q.norm === 'linf').map((q) => `${q.target}\u0000${q.eps}\u0000${q.oracleMode}`)),
  ];
  for (const key of keys) {
    const [target, epsText, mode] = key.split('\u0000') as [string, string, string];
    const eps = Number(epsText);
    const best = transfer
      .filter((t) => t.target === target && t.eps === eps)
      // Ties go to the cheaper setting, then by name, so the choice never depends on record order.
      .sort(
        (a, b) =>
          b.success.value - a.success.value || a.costPerImage - b.costPerImage || a.method.localeCompare(b.method),
      )[0];
    if (best === undefined) continue;
    const firstAbove = (candidates: readonly QueryCellResult[]) => {
      let first: { method: string; queries: number; success: number; perQuery: number } | undefined;
      for (const q of candidates) {
        // Exactly: the k-th fewest queries to success, k the first count whose share passes the transfer's.
        const sorted = q.queriesToSuccess.filter((n): n is number => n !== null).sort((a, b) => a - b);
        const k = Math.floor(best.success.value * q.images) + 1;
        const at = sorted[k - 1];
        if (at === undefined) continue;
        const point = {
          queries: round6(at + q.substituteQueries / Math.max(1, q.images)),
          success: round6(k / q.images),
          // Successes per own query when stopped at the crossing.
          perQuery: queryFigures(q.queriesToSuccess, q.queriesPerImage ?? [], at, figureSeed(q.cellId))
            .successesPerQuery.value,
        };
        if (first === undefined || point.queries < first.queries) first = { method: queryMethod(q), ...point };
      }
      return first ? [first.method, first.queries, first.success, first.perQuery] : ['', '', '', ''];
    };
    const candidates = queries.filter(
      (x) => x.target === target && x.eps === eps && x.oracleMode === mode && x.norm === 'linf',
    );
    const pure = candidates.filter((q) => q.start === 'clean' && q.attackKind !== 'hybrid');
    rows.push([
      target,
      eps,
      mode,
      best.method,
      ...rateCells(best.success),
      round6(best.costPerImage),
      ...firstAbove(candidates),
      ...firstAbove(pure),
    ]);
  }
  return {
    columns: [
      'target',
      'eps',
      'oracle_mode',
      'best_transfer',
      ...rateColumns('transfer_success'),
      'transfer_cost_per_image',
      'first_above',
      'first_above_queries_per_image',
      'first_above_success',
      'first_above_successes_per_query',
      'first_pure_query_attack_above',
      'pure_queries_per_image',
      'pure_success',
      'pure_successes_per_query',
    ],
    rows,
  };
}

/** Success against queries per image (log x): query attacks as curves, transfer settings as points. */
export function queriesPlot(results: readonly TransferRecord[], queries: readonly QueryCellResult[]): PlotSpec {
  const curves = queries.flatMap((q) =>
    curvePoints(q).map((p) => ({ panel: `${q.target}, ${q.norm} eps ${q.eps}`, method: queryMethod(q), ...p })),
  );
  const panels = new Set(curves.map((c) => c.panel));
  const points = transferEntries(results)
    .map((t) => ({
      panel: `${t.target}, linf eps ${t.eps}`,
      method: t.method,
      queries: round6(t.costPerImage),
      success: round6(t.success.value),
    }))
    .filter((p) => panels.has(p.panel));
  const x = { field: 'queries', type: 'quantitative', title: 'queries per image', scale: { type: 'log' } } as const;
  const y = {
    field: 'success',
    type: 'quantitative',
    title: 'success (target fooled)',
    scale: { domain: [0, 1] },
  } as const;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: {
      values: [...curves.map((c) => ({ ...c, type: 'query' })), ...points.map((p) => ({ ...p, type: 'transfer' }))],
    },
    facet: { field: 'panel', type: 'nominal', title: null },
    columns: 2,
    spec: {
      width: 320,
      height: 220,
      resolve: { legend: { color: 'independent', shape: 'independent' } },
      layer: [
        {
          transform: [{ filter: "datum.type == 'query'" }],
          mark: { type: 'line' },
          encoding: {
            x,
            y,
            color: { field: 'method', type: 'nominal', title: 'query attack', legend: { labelLimit: 420 } },
          },
        },
        {
          transform: [{ filter: "datum.type == 'transfer'" }],
          mark: { type: 'point', filled: true, size: 50, color: '#333' },
          encoding: {
            x,
            y,
            shape: {
              field: 'method',
              type: 'nominal',
              title: 'transfer (substitute queries / image + 1)',
              legend: { labelLimit: 420 },
            },
          },
        },
      ],
    },
  } as unknown as TopLevelSpec;
  return {
    file: 'success-vs-queries.svg',
    title: 'Success vs queries per image: query attacks (curves) and transfer (points)',
    spec,
  };
}

export function queryTables(
  results: readonly CellResult[],
  queries: readonly QueryCellResult[],
): Record<string, Table> {
  if (queries.length === 0) return {};
  return {
    'leaderboard-queries.csv': queriesTable(results, queries),
    'crossover-queries.csv': crossoverTable(results, queries),
  };
}
