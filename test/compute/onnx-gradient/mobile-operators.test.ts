import assert from 'node:assert/strict';
import { buildGradientModel } from '../../../src/compute/onnx-gradient/build.js';
import { float, int, str, type Attribute } from '../../../src/compute/onnx-gradient/ir.js';
import { checkAgainstFiniteDifferences } from './finite-differences.js';
import { TinyGraph } from './tiny-graph.js';

interface Row {
  readonly name: string;
  readonly shape: readonly [number, number, number];
  readonly opset?: number;
  readonly build: (g: TinyGraph) => string;
}

/**
 * The model's input is 2 p - 1 for pixels p = (k + 1/2) / 32 (finite-differences.ts); times 4 it spans
 * [-3.75, 3.75] and the kinks at +-2.5 and +-3 fall halfway between two pixels, where no step reaches them.
 */
const spread = (g: TinyGraph) => g.node('Mul', ['x', g.floats([], [4])]);
const conv = (g: TinyGraph, x: string, w: number[]) =>
  g.node('Conv', [x, g.weight(w), g.weight([w[0] as number], 0.1)]);
const resize = (g: TinyGraph, attributes: Record<string, Attribute>, scales?: number[], sizes?: number[]) =>
  g.node(
    'Resize',
    [conv(g, 'x', [2, 2, 1, 1]), '', scales ? g.floats([4], scales) : '', sizes ? g.int64s(sizes) : ''],
    attributes,
  );

/** One row per operator and attribute combination of issue 27's mobile-network operators. */
const ROWS: Row[] = [
  { name: 'HardSigmoid', shape: [2, 4, 4], build: (g) => g.node('HardSigmoid', [spread(g)]) },
  {
    name: 'HardSigmoid alpha 0.25, beta 0.375',
    shape: [2, 4, 4],
    build: (g) => g.node('HardSigmoid', [spread(g)], { alpha: float(0.25), beta: float(0.375) }),
  },
  { name: 'HardSwish', shape: [2, 4, 4], opset: 14, build: (g) => g.node('HardSwish', [spread(g)]) },
  { name: 'Softplus', shape: [2, 4, 4], build: (g) => g.node('Softplus', [spread(g)]) },
  { name: 'Mish', shape: [2, 4, 4], opset: 18, build: (g) => g.node('Mish', [spread(g)]) },
  { name: 'Elu alpha 0.7', shape: [2, 4, 4], build: (g) => g.node('Elu', [spread(g)], { alpha: float(0.7) }) },
  { name: 'Selu', shape: [2, 4, 4], build: (g) => g.node('Selu', [spread(g)]) },
  {
    name: 'PRelu, one slope per channel',
    shape: [2, 4, 4],
    build: (g) => g.node('PRelu', [spread(g), g.weight([2, 1, 1])]),
  },
  { name: 'PRelu, one slope', shape: [2, 4, 4], build: (g) => g.node('PRelu', [spread(g), g.weight([1])]) },
  {
    name: 'InstanceNormalization',
    shape: [2, 4, 4],
    build: (g) =>
      g.node('InstanceNormalization', [conv(g, 'x', [3, 2, 1, 1]), g.weight([3]), g.weight([3])], {
        epsilon: float(1e-3),
      }),
  },
  {
    name: 'GroupNormalization, 2 groups of 2 channels',
    shape: [2, 4, 4],
    opset: 18,
    build: (g) =>
      g.node('GroupNormalization', [conv(g, 'x', [4, 2, 1, 1]), g.weight([2]), g.weight([2])], {
        num_groups: int(2),
      }),
  },
  {
    name: 'Resize nearest x2, asymmetric, floor (torch nearest)',
    shape: [2, 3, 3],
    build: (g) =>
      resize(
        g,
        { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') },
        [1, 1, 2, 2],
      ),
  },
  {
    name: 'Resize nearest 4x4 -> 5x6, half_pixel, round_prefer_floor',
    shape: [2, 4, 4],
    build: (g) => resize(g, { mode: str('nearest') }, [1, 1, 1.25, 1.5]),
  },
  {
    name: 'Resize linear x2, pytorch_half_pixel (torch bilinear)',
    shape: [2, 3, 3],
    build: (g) =>
      resize(g, { mode: str('linear'), coordinate_transformation_mode: str('pytorch_half_pixel') }, [1, 1, 2, 2]),
  },
  {
    name: 'Resize linear x1.5 x2, align_corners',
    shape: [2, 4, 3],
    build: (g) =>
      resize(g, { mode: str('linear'), coordinate_transformation_mode: str('align_corners') }, [1, 1, 1.5, 2]),
  },
  {
    name: 'Resize linear 4x4 -> 2x3, half_pixel (downsampling)',
    shape: [2, 4, 4],
    build: (g) => resize(g, { mode: str('linear') }, [1, 1, 0.5, 0.75]),
  },
  {
    name: 'DepthToSpace DCR, blocksize 2',
    shape: [2, 3, 3],
    build: (g) => g.node('DepthToSpace', [conv(g, 'x', [8, 2, 1, 1])], { blocksize: int(2) }),
  },
  {
    name: 'DepthToSpace CRD, blocksize 2',
    shape: [2, 3, 3],
    build: (g) => g.node('DepthToSpace', [conv(g, 'x', [8, 2, 1, 1])], { blocksize: int(2), mode: str('CRD') }),
  },
  {
    name: 'SpaceToDepth, blocksize 2',
    shape: [2, 4, 6],
    build: (g) => g.node('SpaceToDepth', [conv(g, 'x', [3, 2, 1, 1])], { blocksize: int(2) }),
  },
  { name: 'GlobalMaxPool', shape: [2, 4, 4], build: (g) => g.node('GlobalMaxPool', [conv(g, 'x', [3, 2, 3, 3])]) },
];

describe('ONNX gradient builders of mobile-network operators against central finite differences', () => {
  for (const row of ROWS) {
    it(`${row.name}: normwise relative error <= 1e-3`, async () => {
      const graph = new TinyGraph(row.shape, row.opset ?? 13);
      const { bytes, description } = await graph.classifier(row.build(graph));
      const check = await checkAgainstFiniteDifferences(bytes, description, { loss: 'cross-entropy' });
      assert.ok(check.error <= 1e-3, `error ${check.error.toExponential(2)}`);
    });
  }

  it('refuses what it cannot differentiate, naming the node', async () => {
    const refusal = async (build: (g: TinyGraph) => string, pattern: RegExp, opset = 13) => {
      const g = new TinyGraph([2, 4, 4], opset);
      const { bytes, description } = await g.classifier(build(g));
      await assert.rejects(buildGradientModel(bytes, description, { loss: 'cross-entropy' }), pattern);
    };
    await refusal(
      (g) => resize(g, { mode: str('cubic') }, [1, 1, 2, 2]),
      /Resize node Resize_\d+: mode cubic is not supported; only nearest and linear/,
    );
    await refusal(
      (g) =>
        resize(g, { mode: str('linear'), coordinate_transformation_mode: str('tf_crop_and_resize') }, [1, 1, 2, 2]),
      /coordinate_transformation_mode tf_crop_and_resize is not supported/,
    );
  });
});
