import assert from 'node:assert/strict';
import { buildGradientModel } from '../../../src/compute/onnx-gradient/build.js';
import { float, int, ints, str } from '../../../src/compute/onnx-gradient/ir.js';
import { slicedPositions } from '../../../src/compute/onnx-gradient/ops/slice.js';
import { parseEinsum } from '../../../src/compute/onnx-gradient/ops/einsum.js';
import { checkAgainstFiniteDifferences } from './finite-differences.js';
import { TinyGraph } from './tiny-graph.js';

interface Row {
  readonly name: string;
  readonly shape: readonly [number, number, number];
  readonly opset?: number;
  readonly build: (g: TinyGraph) => string;
}

const BIG = 2 ** 62;
const conv = (g: TinyGraph, x: string, w: number[]) =>
  g.node('Conv', [x, g.weight(w), g.weight([w[0] as number], 0.1)]);
/** The second output of the node added last (TinyGraph names outputs <op><counter>_<i>). */
const second = (first: string) => first.replace(/_0$/, '_1');
/** x [N, 2, 4, 4] seen as tokens [N, 8, 4] (ViT's [batch, tokens, hidden]). */
const tokens = (g: TinyGraph) => g.node('Reshape', [conv(g, 'x', [2, 2, 1, 1]), g.int64s([-1, 8, 4])]);
/** LayerNorm over the last axis built from primitives, as torch.onnx writes it at opset 13. */
function decomposedLayerNorm(g: TinyGraph, x: string): string {
  const mean = (v: string) => g.node('ReduceMean', [v], { axes: ints([-1]), keepdims: int(1) });
  const centred = g.node('Sub', [x, mean(x)]);
  const variance = mean(g.node('Pow', [centred, g.floats([], [2])]));
  const normalised = g.node('Div', [centred, g.node('Sqrt', [g.node('Add', [variance, g.floats([], [1e-5])])])]);
  return g.node('Add', [g.node('Mul', [normalised, g.weight([4])]), g.weight([4])]);
}
/** [N, 3, k, w] int64 indices: a constant [1, 3, k, w] expanded over the batch (a run-time value). */
function batchIndices(g: TinyGraph, values: number[], dims: [number, number, number]): string {
  const batch = g.node('Slice', [g.node('Shape', ['x']), g.int64s([0]), g.int64s([1])]);
  const target = g.node('Concat', [batch, g.int64s(dims)], { axis: int(0) });
  const constant = g.node('Cast', [g.floats([1, ...dims], values)], { to: int(7) });
  return g.node('Expand', [constant, target]);
}

/** One row per operator and attribute combination of issue 27's transformer operators. */
const ROWS: Row[] = [
  {
    name: 'LayerNormalization over the last axis (ViT, opset 17)',
    shape: [2, 4, 4],
    opset: 17,
    build: (g) => g.node('LayerNormalization', [tokens(g), g.weight([4]), g.weight([4])], { epsilon: float(1e-5) }),
  },
  {
    name: 'LayerNormalization from axis 1, no bias',
    shape: [2, 4, 4],
    opset: 17,
    build: (g) => g.node('LayerNormalization', [conv(g, 'x', [2, 2, 1, 1]), g.weight([2, 4, 4])], { axis: int(1) }),
  },
  {
    name: 'LayerNorm decomposed: ReduceMean, Sub, Pow, Sqrt, Div (opset 13)',
    shape: [2, 4, 4],
    build: (g) => decomposedLayerNorm(g, tokens(g)),
  },
  { name: 'Erf', shape: [2, 4, 4], build: (g) => g.node('Erf', [conv(g, 'x', [2, 2, 1, 1])]) },
  { name: 'Gelu exact (opset 20)', shape: [2, 4, 4], opset: 20, build: (g) => g.node('Gelu', [tokens(g)]) },
  {
    name: 'Gelu tanh (opset 20)',
    shape: [2, 4, 4],
    opset: 20,
    build: (g) => g.node('Gelu', [tokens(g)], { approximate: str('tanh') }),
  },
  {
    name: 'Gather of one token, scalar index (ViT class token)',
    shape: [2, 4, 4],
    build: (g) => g.node('Gather', [tokens(g), g.int64Scalar(0)], { axis: int(1) }),
  },
  {
    name: 'Gather with repeated and negative indices, [2, 2] index tensor',
    shape: [2, 4, 4],
    build: (g) => {
      const index = g.int64s([3, -1, 0, 3]);
      const square = g.node('Reshape', [index, g.int64s([2, 2])]);
      return g.node('Gather', [conv(g, 'x', [2, 2, 1, 1]), square], { axis: int(3) });
    },
  },
  {
    name: 'GatherElements along axis 2, run-time indices shorter on axis 3',
    shape: [2, 4, 4],
    build: (g) =>
      g.node(
        'GatherElements',
        [
          conv(g, 'x', [3, 2, 1, 1]),
          batchIndices(
            g,
            [...Array(18)].map((_, i) => (i * 7) % 4),
            [3, 2, 3],
          ),
        ],
        {
          axis: int(2),
        },
      ),
  },
  {
    name: 'Slice of channels, step 1 (ShuffleNet-V2)',
    shape: [2, 4, 4],
    build: (g) => g.node('Slice', [conv(g, 'x', [4, 2, 1, 1]), g.int64s([1]), g.int64s([3]), g.int64s([1])]),
  },
  {
    name: "Slice with step 2 on both spatial axes (Swin's patch merging)",
    shape: [2, 4, 5],
    build: (g) =>
      g.node('Slice', [
        conv(g, 'x', [2, 2, 1, 1]),
        g.int64s([0, 1]),
        g.int64s([BIG, BIG]),
        g.int64s([2, 3]),
        g.int64s([2, 2]),
      ]),
  },
  {
    name: 'Slice with negative steps and ends, whole batch axis',
    shape: [2, 4, 5],
    build: (g) =>
      g.node('Slice', [
        conv(g, 'x', [2, 2, 1, 1]),
        g.int64s([0, -1, 3]),
        g.int64s([BIG, -BIG, 0]),
        g.int64s([0, 3, 2]),
        g.int64s([1, -2, -1]),
      ]),
  },
  {
    name: 'Split by sizes (opset 13), both halves used',
    shape: [2, 4, 4],
    build: (g) => {
      const first = g.node('Split', [conv(g, 'x', [3, 2, 1, 1]), g.int64s([1, 2])], { axis: int(1) }, 2);
      return g.node('Concat', [g.node('Tanh', [second(first)]), g.node('Mul', [first, first])], { axis: int(1) });
    },
  },
  {
    name: 'Split into num_outputs (opset 18), one output unused',
    shape: [2, 4, 4],
    opset: 18,
    build: (g) => second(g.node('Split', [conv(g, 'x', [4, 2, 1, 1])], { axis: int(1), num_outputs: int(2) }, 2)),
  },
  {
    name: 'Expand of leading and size-1 axes',
    shape: [2, 4, 4],
    build: (g) => {
      const narrow = g.node('ReduceMean', [conv(g, 'x', [1, 2, 1, 1])], { axes: ints([3]), keepdims: int(1) });
      return g.node('Expand', [g.node('Reshape', [narrow, g.int64s([-1, 1, 4, 1])]), g.int64s([3, 4, 4])]);
    },
  },
  {
    name: 'Tile',
    shape: [2, 3, 3],
    build: (g) => g.node('Tile', [conv(g, 'x', [2, 2, 1, 1]), g.int64s([1, 2, 1, 3])]),
  },
  {
    name: 'Where with a constant mask, a broadcast branch',
    shape: [2, 4, 4],
    build: (g) => {
      const mask = g.node('Greater', [g.weight([1, 3, 4, 4]), g.floats([], [0])]);
      return g.node('Where', [mask, conv(g, 'x', [3, 2, 1, 1]), conv(g, 'x', [1, 2, 1, 1])]);
    },
  },
  { name: 'Pow by constant 3', shape: [2, 4, 4], build: (g) => g.node('Pow', ['x', g.floats([], [3])]) },
  { name: 'Pow by int64 constant 2', shape: [2, 4, 4], build: (g) => g.node('Pow', ['x', g.int64s([2])]) },
  {
    name: 'Pow with a computed base and exponent',
    shape: [2, 4, 4],
    build: (g) => g.node('Pow', [g.node('Sigmoid', [conv(g, 'x', [2, 2, 1, 1])]), conv(g, 'x', [1, 2, 1, 1])]),
  },
  { name: 'Abs', shape: [2, 4, 4], build: (g) => g.node('Abs', ['x']) },
  {
    name: 'Min of two, broadcast',
    shape: [2, 4, 4],
    build: (g) => g.node('Min', [conv(g, 'x', [3, 2, 1, 1]), conv(g, 'x', [1, 2, 1, 1])]),
  },
  {
    name: 'Min and Max of three',
    shape: [2, 4, 4],
    build: (g) => {
      // 3x3 windows: the three 1x1 maps of the 2 channels had a near-tie within a step of a pixel.
      const [a, b, c] = [0, 1, 2].map(() => conv(g, 'x', [2, 2, 3, 3])) as [string, string, string];
      return g.node('Concat', [g.node('Min', [a, b, c]), g.node('Max', [c, a, b])], { axis: int(1) });
    },
  },
  {
    name: 'Sum of three, broadcast',
    shape: [2, 4, 4],
    build: (g) => g.node('Sum', [conv(g, 'x', [2, 2, 1, 1]), conv(g, 'x', [1, 2, 1, 1]), g.node('Tanh', ['x'])]),
  },
  {
    name: 'Mean of three',
    shape: [2, 4, 4],
    build: (g) => g.node('Mean', [conv(g, 'x', [2, 2, 1, 1]), g.node('Sigmoid', ['x']), g.node('Tanh', ['x'])]),
  },
  {
    name: "Einsum attention: softmax('bhid,bhjd->bhij') then 'bhij,bhjd->bhid'",
    shape: [2, 4, 4],
    build: (g) => {
      const [q, k, v] = [0, 1, 2].map(() => conv(g, 'x', [2, 2, 1, 1])) as [string, string, string];
      const scores = g.node('Einsum', [q, k], { equation: str('bhid,bhjd->bhij') });
      const attention = g.node('Softmax', [scores], { axis: int(-1) });
      return g.node('Einsum', [attention, v], { equation: str('bhij,bhjd->bhid') });
    },
  },
  {
    name: "Einsum projection with ellipsis '...d,de->...e' and a summed-away letter 'bchw->bc'",
    shape: [2, 4, 4],
    build: (g) => {
      const x = conv(g, 'x', [2, 2, 1, 1]);
      const projected = g.node('Einsum', [x, g.weight([4, 3])], { equation: str('...d,de->...e') });
      const pooled = g.node('Einsum', [x], { equation: str('bchw->bc') });
      return g.node('Mul', [projected, g.node('Reshape', [pooled, g.int64s([-1, 2, 1, 1])])]);
    },
  },
  {
    name: "ReduceL2, Clip and Div over the last axis (F.normalize, Swin-V2's cosine attention)",
    shape: [2, 4, 4],
    build: (g) => {
      const q = tokens(g);
      const norm = g.node('ReduceL2', [q], { axes: ints([-1]), keepdims: int(1) });
      const clamped = g.node('Clip', [norm, g.floats([], [1e-12])]);
      return g.node('Div', [q, g.node('Expand', [clamped, g.node('Shape', [q])])]);
    },
  },
  {
    name: 'ReduceL2 keepdims 0 over two axes',
    shape: [2, 3, 4],
    build: (g) => g.node('ReduceL2', [conv(g, 'x', [3, 2, 1, 1])], { axes: ints([1, 3]), keepdims: int(0) }),
  },
  {
    name: 'ReduceL2, axes as input (opset 18)',
    shape: [2, 3, 4],
    opset: 18,
    build: (g) => g.node('ReduceL2', [g.node('Tanh', ['x']), g.int64s([2])]),
  },
  {
    name: 'ReduceL2 of zero vectors beside nonzero ones: gradient 0 there, not 0/0',
    shape: [2, 3, 4],
    build: (g) => {
      // Channel 1 is zeroed by a constant, so its norms are 0 at every pixel value.
      const masked = g.node('Mul', [conv(g, 'x', [3, 2, 1, 1]), g.floats([1, 3, 1, 1], [1, 0, 1])]);
      return g.node('ReduceL2', [masked], { axes: ints([3]), keepdims: int(1) });
    },
  },
  {
    name: 'Cast float to float',
    shape: [2, 4, 4],
    build: (g) => g.node('Tanh', [g.node('Cast', ['x'], { to: int(1) })]),
  },
];

describe('ONNX gradient builders of transformer operators against central finite differences', () => {
  for (const row of ROWS) {
    it(`${row.name}: normwise relative error <= 1e-3`, async () => {
      const graph = new TinyGraph(row.shape, row.opset ?? 13);
      const { bytes, description } = await graph.classifier(row.build(graph));
      const check = await checkAgainstFiniteDifferences(bytes, description, { loss: 'cross-entropy' });
      assert.ok(check.error <= 1e-3, `error ${check.error.toExponential(2)}`);
    });
  }

  it("reads Slice's starts and ends as ONNX clamps them", () => {
    assert.deepEqual(slicedPositions(0, BIG, 2, 5), [0, 2, 4]);
    assert.deepEqual(slicedPositions(-1, -BIG, -2, 5), [4, 2, 0]);
    assert.deepEqual(slicedPositions(3, 0, -1, 4), [3, 2, 1]);
    assert.deepEqual(slicedPositions(-10, 2, 1, 4), [0, 1]);
    assert.deepEqual(slicedPositions(7, 9, 1, 4), []);
  });

  it('writes out Einsum ellipses and implicit outputs', () => {
    assert.deepEqual(parseEinsum('...d,de->...e', [3, 2]), { inputs: ['abd', 'de'], output: 'abe' });
    assert.deepEqual(parseEinsum('ij,jk', [2, 2]), { inputs: ['ij', 'jk'], output: 'ik' });
  });

  it('refuses what it cannot differentiate, naming the node', async () => {
    const refusal = async (build: (g: TinyGraph) => string, pattern: RegExp, opset = 13) => {
      const g = new TinyGraph([2, 4, 4], opset);
      const { bytes, description } = await g.classifier(build(g));
      await assert.rejects(buildGradientModel(bytes, description, { loss: 'cross-entropy' }), pattern);
    };
    await refusal(
      (g) => g.node('Einsum', [conv(g, 'x', [2, 2, 1, 1])], { equation: str('bcii->bci') }),
      /Einsum node Einsum_\d+: the repeated letter in 'bcii' \(a diagonal\) is not supported/,
    );
    await refusal((g) => {
      const mean = g.node('ReduceMean', ['x'], { axes: ints([0, 1, 2]), keepdims: int(0) });
      const picked = g.node('ArgMax', [mean], { axis: int(0), keepdims: int(1) });
      return g.node('Gather', [conv(g, 'x', [2, 2, 1, 1]), picked], { axis: int(3) });
    }, /Gather node Gather_\d+: its indices are computed at run time; only constant \(or folded\) indices/);
    await refusal((g) => {
      const x = conv(g, 'x', [2, 2, 1, 1]);
      return g.node('Einsum', [x, x, x], { equation: str('bchw,bchw,bchw->bch') });
    }, /Einsum node Einsum_\d+: 3 operands are not supported; only one or two/);
  });
});
