import assert from 'node:assert/strict';
import { Random } from '../../../../src/common/random.js';
import { buildGradientModel } from '../../../../src/compute/onnx-gradient/build.js';
import { decodeModel, int, ints, str, type Attribute } from '../../../../src/compute/onnx-gradient/ir.js';
import { checkAgainstFiniteDifferences, normwiseRelativeError } from '../finite-differences.js';
import { TinyGraph } from '../tiny-graph.js';

interface Case {
  readonly name: string;
  readonly shape: readonly [number, number, number];
  /** [M, C / group, kH, kW]. */
  readonly weight: readonly [number, number, number, number];
  readonly group: number;
  readonly attributes: Record<string, Attribute>;
}

const CASES: Case[] = [
  { name: '3x3, pads 1', shape: [16, 6, 6], weight: [4, 16, 3, 3], group: 1, attributes: { pads: ints([1, 1, 1, 1]) } },
  {
    name: '2x3, dilations 2x1, asymmetric pads',
    shape: [16, 7, 6],
    weight: [3, 16, 2, 3],
    group: 1,
    attributes: { dilations: ints([2, 1]), pads: ints([0, 1, 1, 0]) },
  },
  {
    name: 'depthwise 3x3, auto_pad SAME_LOWER',
    shape: [16, 5, 5],
    weight: [16, 1, 3, 3],
    group: 16,
    attributes: { auto_pad: str('SAME_LOWER') },
  },
];

/**
 * The Conv of `c`, on all its input channels at once, or as two Convs on either half of them (each under 16
 * channels, so their input gradients stay ConvTransposes): the same function.
 */
function model(c: Case, split: boolean) {
  const g = new TinyGraph(c.shape);
  const random = new Random(3);
  const [m, perGroup, kh, kw] = c.weight;
  const w = Array.from({ length: m * perGroup * kh * kw }, () => random.next() - 0.5);
  const bias = g.floats(
    [m],
    Array.from({ length: m }, () => random.next() - 0.5),
  );
  const attributes = (group: number) => ({ ...c.attributes, group: int(group) });
  if (!split) return { g, out: g.node('Conv', ['x', g.floats(c.weight, w), bias], attributes(c.group)) };
  const channels = c.shape[0];
  const half = (i: 0 | 1) =>
    g.node('Slice', ['x', g.int64s([(i * channels) / 2]), g.int64s([((i + 1) * channels) / 2]), g.int64s([1])]);
  const kernel = perGroup * kh * kw;
  if (c.group === 1) {
    // Each output channel's kernel split between the two halves of the input channels.
    const part = (i: 0 | 1) =>
      Array.from({ length: m }, (_, o) =>
        w.slice(o * kernel + (i * kernel) / 2, o * kernel + ((i + 1) * kernel) / 2),
      ).flat();
    const dims = [m, perGroup / 2, kh, kw];
    const first = g.node('Conv', [half(0), g.floats(dims, part(0)), bias], attributes(1));
    return { g, out: g.node('Add', [first, g.node('Conv', [half(1), g.floats(dims, part(1))], attributes(1))]) };
  }
  // Whole groups on either side: half the output channels each.
  const dims = [m / 2, perGroup, kh, kw];
  const halves = ([0, 1] as const).map((i) =>
    g.node(
      'Conv',
      [
        half(i),
        g.floats(dims, w.slice((i * m * kernel) / 2, ((i + 1) * m * kernel) / 2)),
        g.node('Slice', [bias, g.int64s([(i * m) / 2]), g.int64s([((i + 1) * m) / 2]), g.int64s([0])]),
      ],
      attributes(c.group / 2),
    ),
  );
  return { g, out: g.node('Concat', halves, { axis: int(1) }) };
}

describe('Conv gradient builder', () => {
  const inputGradientOps = async (channels: number, attributes: Record<string, Attribute>) => {
    const g = new TinyGraph([channels, 6, 6]);
    const { bytes, description } = await g.classifier(
      g.node('Conv', ['x', g.weight([4, channels, 3, 3]), g.weight([4], 0.1)], attributes),
    );
    const graph = decodeModel(await buildGradientModel(bytes, description, { loss: 'cross-entropy' }));
    return graph.nodes.filter((n) => n.name.includes('_grad/')).map((n) => n.opType);
  };

  it('writes a stride-1 input gradient with >= 16 input channels as a Conv', async () => {
    const ops = await inputGradientOps(16, { pads: ints([1, 1, 1, 1]) });
    assert.ok(ops.includes('Conv') && !ops.includes('ConvTranspose'), ops.join(', '));
  });

  it('keeps a ConvTranspose for fewer channels and for strides', async () => {
    assert.ok((await inputGradientOps(3, { pads: ints([1, 1, 1, 1]) })).includes('ConvTranspose'));
    assert.ok((await inputGradientOps(16, { strides: ints([2, 2]) })).includes('ConvTranspose'));
  });

  for (const c of CASES) {
    it(`${c.name}: the input gradient as a Conv equals the one through ConvTransposes (<= 1e-5)`, async () => {
      const gradients = [];
      for (const split of [false, true]) {
        const { g, out } = model(c, split);
        const { bytes, description } = await g.classifier(out);
        gradients.push((await checkAgainstFiniteDifferences(bytes, description, { loss: 'cross-entropy' })).analytic);
      }
      const [whole, halves] = gradients as [Float32Array, Float32Array];
      const error = normwiseRelativeError(whole, halves);
      assert.ok(error <= 1e-5, `error ${error.toExponential(2)}`);
    });
  }
});
