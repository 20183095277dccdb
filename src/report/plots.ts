import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { groupBy, pooled, substituteName } from '../records/aggregate.js';
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
const DASH_LEGEND = { symbolType: 'stroke', symbolStrokeWidth: 2, encode: { symbols: { update: { stroke: { value: '#444' } } } } } as Record<string, unknown>;

/** The three plots of a report: transfer vs eps, the substitute x target heatmap, fidelity vs queries. */
export function plotSpecs(results: readonly CellResult[]): PlotSpec[] {
  const attacks = results.filter((r) => !r.reference);
  const byAttackEps = [...groupBy(attacks, (r) => `${r.attack}|${r.labelSource}|${r.eps}`).values()].map((g) => {
    const r = g[0] as CellResult;
    return { attack: `${r.attack} (${r.labelSource})`, kind: r.attackKind, eps: r.eps, transferRate: pooled(g.map((x) => x.transferRate)).value };
  });
  const heat = [...groupBy(results, (r) => `${substituteName(r)}|${r.target}`).values()].map((g) => {
    const r = g[0] as CellResult;
    return { substitute: substituteName(r), target: r.target, transferRate: pooled(g.map((x) => x.transferRate)).value };
  });
  const fidelity = [...groupBy(results, (r) => `${substituteName(r)}|${r.target}`).values()].map((g) => {
    const r = g[0] as CellResult;
    return { strategy: r.strategy, target: r.target, queries: r.substituteQueries, fidelity: r.substituteFidelity };
  });
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
        encoding: { x: { field: 'target', type: 'nominal', axis: { labelAngle: -30 } }, y: { field: 'substitute', type: 'nominal', axis: { labelLimit: 320 } } },
        layer: [
          { mark: 'rect', encoding: { color: { field: 'transferRate', type: 'quantitative', scale: { domain: [0, 1] }, title: 'transfer rate' } } },
          { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'transferRate', type: 'quantitative', format: '.2f' } } },
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
