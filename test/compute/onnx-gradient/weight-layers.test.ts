import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Random } from '../../../src/common/random.js';
import {
  buildWeightGradientModel,
  WEIGHT_GRADIENT_IO,
  weightGradientName,
} from '../../../src/compute/onnx-gradient/weights.js';
import { imageShapeOf } from '../../../src/compute/onnx-gradient/heads.js';
import { decodeModel, float, int, ints, tensorValues } from '../../../src/compute/onnx-gradient/ir.js';
import { scalarOutput } from '../../../src/compute/onnx-train/feeds.js';
import { normwiseRelativeError } from './finite-differences.js';
import { normalise } from './normalise.js';
import { TinyGraph } from './tiny-graph.js';

interface Row {
  readonly name: string;
  readonly shape: readonly [number, number, number];
  readonly build: (g: TinyGraph) => string;
}

const tanhConv = (g: TinyGraph, w: number[], attributes: Parameters<TinyGraph['node']>[2]) =>
  g.node('Tanh', [g.node('Conv', ['x', g.weight(w), g.weight([w[0] as number], 0.2)], attributes)]);

/** Smooth graphs only: a weight step must not cross a kink. */
const ROWS: Row[] = [
  {
    name: 'Conv pads 1 with bias, Gemm',
    shape: [2, 4, 4],
    build: (g) => tanhConv(g, [3, 2, 3, 3], { pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'Conv stride 2 with rows left over, asymmetric pads',
    shape: [2, 7, 7],
    build: (g) => tanhConv(g, [2, 2, 3, 2], { strides: ints([2, 2]), pads: ints([1, 0, 0, 1]) }),
  },
  { name: 'Conv dilations 2', shape: [1, 6, 6], build: (g) => tanhConv(g, [2, 1, 2, 2], { dilations: ints([2, 2]) }) },
  { name: 'Conv groups 2', shape: [4, 4, 4], build: (g) => tanhConv(g, [4, 2, 2, 2], { group: int(2) }) },
  {
    name: 'Conv depthwise with multiplier 2, stride 2',
    shape: [2, 5, 5],
    build: (g) => tanhConv(g, [4, 1, 3, 3], { group: int(2), strides: ints([2, 2]) }),
  },
  {
    name: 'BatchNormalization scale and bias (statistics get none)',
    shape: [3, 3, 3],
    build: (g) =>
      g.node('Tanh', [
        g.node('BatchNormalization', ['x', g.weight([3]), g.weight([3]), g.weight([3]), g.positive([3])]),
      ]),
  },
  {
    name: 'ConvTranspose 3x3 stride 2, pads 0 0 1 1 (tfjs same), bias',
    shape: [2, 3, 3],
    build: (g) =>
      g.node('Tanh', [
        g.node('ConvTranspose', ['x', g.weight([2, 2, 3, 3]), g.weight([2], 0.2)], {
          strides: ints([2, 2]),
          pads: ints([0, 0, 1, 1]),
        }),
      ]),
  },
  {
    name: 'Batch normalisation in training mode from primitive nodes (statistics over the batch)',
    shape: [2, 3, 3],
    build: (g) => {
      const normalised = normalise(g, tanhConv(g, [3, 2, 2, 2], {}), [0, 2, 3]);
      return g.node('Tanh', [g.node('Add', [g.node('Mul', [normalised, g.weight([3, 1, 1])]), g.weight([3, 1, 1])])]);
    },
  },
  {
    name: 'MatMul 4-D x 3-D, Add and Mul by weights',
    shape: [2, 3, 4],
    build: (g) =>
      g.node('Mul', [
        g.node('Add', [g.node('MatMul', ['x', g.weight([2, 4, 3])]), g.weight([2, 1, 1])]),
        g.weight([3]),
      ]),
  },
  {
    name: 'Gemm transB, alpha, beta, broadcast C',
    shape: [2, 2, 2],
    build: (g) =>
      g.node('Tanh', [
        g.node('Gemm', [g.node('Flatten', ['x']), g.weight([4, 8]), g.weight([1, 4])], {
          transB: int(1),
          alpha: float(0.7),
          beta: float(1.3),
        }),
      ]),
  },
];

describe('buildWeightGradientModel: every layer kind against finite differences in its weights', () => {
  for (const row of ROWS) {
    it(`${row.name}: every trainable weight within 1e-3`, async () => {
      const g = new TinyGraph(row.shape, 13, 9);
      const { bytes, description } = await g.classifier(row.build(g));
      const built = await buildWeightGradientModel(bytes, description);
      const session = await ort.InferenceSession.create(built.bytes, { intraOpNumThreads: 1 });
      const weights = new Map(
        [...decodeModel(bytes).initializers].map(([name, t]) => [name, Float32Array.from(tensorValues(t))]),
      );
      const trained = built.weights.map((w) => w.name);
      try {
        const random = new Random(2);
        const [h, w, c] = imageShapeOf(description);
        const count = 3;
        const images = Float32Array.from({ length: count * h * w * c }, () => random.next());
        const labels = Int32Array.from({ length: count }, () => random.int(description.classes));
        const dims = new Map([...decodeModel(bytes).initializers].map(([name, t]) => [name, t.dims.map(Number)]));
        // The trained weights are inputs now: fed on every run, one of them perturbed.
        const meanLoss = async (weight?: string, values?: Float32Array) => {
          const feeds: Record<string, ort.Tensor> = {
            images: new ort.Tensor('float32', images, [count, h, w, c]),
            labels: new ort.Tensor('int32', labels, [count]),
          };
          for (const name of trained)
            feeds[name] = new ort.Tensor(
              'float32',
              name === weight && values ? values : (weights.get(name) as Float32Array),
              dims.get(name) ?? [],
            );
          return session.run(feeds);
        };
        const analytic = await meanLoss();
        // Every float weight of the model is trained except BatchNormalization's statistics.
        const statistics = row.name.startsWith('BatchNormalization') ? 2 : 0;
        // (Constants such as a normalisation's epsilon are float initializers too, and get a gradient.)
        assert.equal(
          trained.filter((n) => n.startsWith('w')).length,
          [...weights.keys()].filter((n) => n.startsWith('w')).length - statistics,
        );
        assert.deepEqual([...session.inputNames].sort(), ['images', 'labels', ...trained].sort());
        for (const name of trained) {
          const base = weights.get(name) as Float32Array;
          const step = 1e-2;
          const numeric = new Float32Array(base.length);
          for (let i = 0; i < base.length; i++) {
            const at = async (offset: number) => {
              const values = Float32Array.from(base);
              values[i] = (values[i] as number) + offset * step;
              return scalarOutput(await meanLoss(name, values), WEIGHT_GRADIENT_IO.meanLoss);
            };
            numeric[i] = (8 * ((await at(1)) - (await at(-1))) - ((await at(2)) - (await at(-2)))) / (12 * step);
          }
          const gradient = analytic[weightGradientName(name)]?.data as Float32Array;
          const error = normwiseRelativeError(gradient, numeric);
          assert.ok(error <= 1e-3, `${name}: error ${error.toExponential(2)}`);
        }
      } finally {
        await session.release();
      }
    });
  }
});
