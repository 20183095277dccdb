import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { substituteName } from '../records/aggregate.js';
import { rate } from '../records/metrics.js';
import type { CellResult } from '../records/results.js';

/** Vega-Lite specs built from results: pure data in, spec out; rendering is separate. */
export interface PlotSpec {
  readonly file: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
}

/**
 * The single-/multi-step legend drawn as dashed strokes. Vega-Lite leaves a strokeDash legend's
 * symbols without a stroke colour (so they are invisible) and ignores symbolStrokeColor there;
 * Vega's own legend encode, which Vega-Lite passes through but does not type, sets it.
 */
const DASH_LEGEND = {
  symbolType: 'stroke',
  symbolStrokeWidth: 2,
  encode: { symbols: { update: { stroke: { value: '#444' } } } },
} as Record<string, unknown>;

/** What the plots read of a cell: results.csv holds all of it, so the report needs no records. */
export type PlotRecord = Pick<
  CellResult,
  | 'attack'
  | 'attackKind'
  | 'labelSource'
  | 'eps'
  | 'reference'
  | 'target'
  | 'strategy'
  | 'architecture'
  | 'budget'
  | 'substituteQueries'
  | 'substituteFidelity'
> & {
  readonly transferRate: Pick<CellResult['transferRate'], 'numerator' | 'denominator'>;
};

/**
 * The plots' data gathered one cell at a time, with state per plotted point only (attack x eps,
 * substitute x target), never per cell: the report streams results.csv through it. Points keep
 * the order of their first cell, rates are pooled as running sums.
 */
export class PlotData {
  private readonly byAttackEps = new Map<
    string,
    { attack: string; kind: string; eps: number; numerator: number; denominator: number }
  >();
  private readonly bySubstituteTarget = new Map<
    string,
    {
      substitute: string;
      target: string;
      strategy: string;
      queries: number;
      fidelity: number;
      numerator: number;
      denominator: number;
    }
  >();

  add(r: PlotRecord): void {
    if (!r.reference) {
      const key = `${r.attack}|${r.labelSource}|${r.eps}`;
      let point = this.byAttackEps.get(key);
      if (point === undefined) {
        point = {
          attack: `${r.attack} (${r.labelSource})`,
          kind: r.attackKind,
          eps: r.eps,
          numerator: 0,
          denominator: 0,
        };
        this.byAttackEps.set(key, point);
      }
      point.numerator += r.transferRate.numerator;
      point.denominator += r.transferRate.denominator;
    }
    const substitute = substituteName(r);
    const key = `${substitute}|${r.target}`;
    let point = this.bySubstituteTarget.get(key);
    // Queries and fidelity are the substitute's, the same in every cell of the pair: the first cell's.
    if (point === undefined) {
      point = {
        substitute,
        target: r.target,
        strategy: r.strategy,
        queries: r.substituteQueries,
        fidelity: r.substituteFidelity,
        numerator: 0,
        denominator: 0,
      };
      this.bySubstituteTarget.set(key, point);
    }
    point.numerator += r.transferRate.numerator;
    point.denominator += r.transferRate.denominator;
  }

  /** The three plots of a report: transfer vs eps, the substitute x target heatmap, fidelity vs queries. */
  specs(): PlotSpec[] {
    const byAttackEps = [...this.byAttackEps.values()].map((p) => ({
      attack: p.attack,
      kind: p.kind,
      eps: p.eps,
      transferRate: rate(p.numerator, p.denominator).value,
    }));
    const pairs = [...this.bySubstituteTarget.values()];
    const heat = pairs.map((p) => ({
      substitute: p.substitute,
      target: p.target,
      transferRate: rate(p.numerator, p.denominator).value,
    }));
    const fidelity = pairs.map((p) => ({
      strategy: p.strategy,
      target: p.target,
      queries: p.queries,
      fidelity: p.fidelity,
    }));
    return specsOf(byAttackEps, heat, fidelity);
  }
}

/** The three plots of a set of results (in the order given). */
export function plotSpecs(results: readonly PlotRecord[]): PlotSpec[] {
  const data = new PlotData();
  for (const r of results) data.add(r);
  return data.specs();
}

function specsOf(
  byAttackEps: Record<string, unknown>[],
  heat: Record<string, unknown>[],
  fidelity: Record<string, unknown>[],
): PlotSpec[] {
  const width = 420;
  return [
    {
      file: 'transfer-vs-eps.svg',
      title: 'Transfer rate vs eps (pooled over targets and substitutes)',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        width,
        height: 260,
        data: { values: byAttackEps },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'eps', type: 'quantitative', title: 'eps (L-inf)' },
          y: { field: 'transferRate', type: 'quantitative', title: 'transfer rate', scale: { domain: [0, 1] } },
          color: { field: 'attack', type: 'nominal' },
          strokeDash: { field: 'kind', type: 'nominal', title: 'kind', legend: DASH_LEGEND },
        },
      },
    },
    {
      file: 'transfer-heatmap.svg',
      title: 'Transfer rate, substitute x target',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        width,
        height: { step: 22 },
        data: { values: heat },
        encoding: {
          x: { field: 'target', type: 'nominal', axis: { labelAngle: -30 } },
          y: { field: 'substitute', type: 'nominal', axis: { labelLimit: 320 } },
        },
        layer: [
          {
            mark: 'rect',
            encoding: {
              color: { field: 'transferRate', type: 'quantitative', scale: { domain: [0, 1] }, title: 'transfer rate' },
            },
          },
          {
            mark: { type: 'text', fontSize: 10 },
            encoding: { text: { field: 'transferRate', type: 'quantitative', format: '.2f' } },
          },
        ],
      },
    },
    {
      file: 'fidelity-vs-queries.svg',
      title: 'Substitute fidelity vs queries spent',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        width,
        height: 260,
        data: { values: fidelity },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: { field: 'queries', type: 'quantitative', title: 'queries spent' },
          y: { field: 'fidelity', type: 'quantitative', title: 'agreement with the target', scale: { zero: false } },
          color: { field: 'strategy', type: 'nominal' },
          shape: { field: 'target', type: 'nominal' },
        },
      },
    },
  ];
}

/** Vega's server-side renderer: SVG text, no browser or canvas needed. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
