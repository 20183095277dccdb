import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../../src/compute/backend.js';
import { Maxout, Rbf } from '../../../src/compute/layers/index.js';
import { buildWeightGradientModel } from '../../../src/compute/onnx-gradient/weights.js';
import type { OnnxModelDescription } from '../../../src/compute/onnx-gradient/heads.js';
import { exportToOnnx, INPUT_NAME, OUTPUT_NAME } from '../../../src/targets/onnx/export.js';
import { checkWeightGradients } from './finite-differences.js';
import { int, ints, TinyGraph } from './tiny-graph.js';

// Seeded weights: with unseeded ones a draw now and then puts a ReLU kink or a pooling tie
// within the finite difference's step, and the test failed at random.
const CASES: { name: string; shape: [number, number, number]; layers: () => tf.layers.Layer[] }[] = [
  {
    name: 'Conv (same, stride 2) + MaxPool + Gemm',
    shape: [8, 8, 2],
    layers: () => [
      tf.layers.conv2d({
        filters: 3,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  },
  {
    name: 'Maxout (Gemm, Reshape, ReduceMax)',
    shape: [4, 4, 1],
    layers: () => [
      tf.layers.flatten(),
      new Maxout({ units: 5, pieces: 3, seed: 1 }),
      tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
    ],
  },
  {
    name: 'RBF as exported (its centres and log-precisions, through Exp, MatMul and Add)',
    shape: [4, 4, 1],
    layers: () => [tf.layers.flatten(), new Rbf({ units: 4, seed: 2 })],
  },
];

// Conv weight gradients (ops/conv.ts: per kernel offset, a strided slice of X times dY) through
// every window attribute, on TinyGraph's NCHW input.
const conv = (attributes: Parameters<TinyGraph['node']>[2], w: number[]) => (g: TinyGraph) =>
  g.node('Conv', ['x', g.weight(w), g.weight([w[0] as number], 0.1)], attributes);
const CONV_ROWS: { name: string; shape: [number, number, number]; build: (g: TinyGraph) => string }[] = [
  { name: 'Conv 3x3, pads 1', shape: [2, 6, 6], build: conv({ pads: ints([1, 1, 1, 1]) }, [3, 2, 3, 3]) },
  {
    name: 'Conv 2x3, asymmetric pads and strides',
    shape: [2, 7, 6],
    build: conv({ pads: ints([0, 1, 2, 0]), strides: ints([2, 1]) }, [3, 2, 2, 3]),
  },
  {
    name: 'Conv 3x3, stride 2, rows left over',
    shape: [2, 8, 8],
    build: conv({ strides: ints([2, 2]) }, [3, 2, 3, 3]),
  },
  { name: 'Conv 3x3, dilations 2', shape: [2, 8, 8], build: conv({ dilations: ints([2, 2]) }, [3, 2, 3, 3]) },
  { name: 'Conv, groups 2', shape: [4, 6, 6], build: conv({ group: int(2) }, [6, 2, 3, 3]) },
  {
    name: 'Conv, depthwise with multiplier 2, stride 2',
    shape: [3, 7, 7],
    build: conv({ group: int(3), strides: ints([2, 2]) }, [6, 1, 3, 3]),
  },
  { name: 'Conv 1x1, stride 2', shape: [2, 6, 6], build: conv({ strides: ints([2, 2]) }, [4, 2, 1, 1]) },
];

const description = (shape: [number, number, number]): OnnxModelDescription => ({
  inputName: INPUT_NAME,
  outputName: OUTPUT_NAME,
  layout: 'NHWC',
  inputShape: shape,
  inputRange: [0, 1],
  normalization: { mean: [0], std: [1] },
  outputKind: 'logits',
  classes: 4,
});

describe('buildWeightGradientModel', () => {
  before(async () => {
    await useBackend('wasm');
  });

  for (const c of CASES) {
    it(`matches central finite differences of the mean loss for every weight: ${c.name}`, async () => {
      const model = tf.sequential();
      model.add(tf.layers.inputLayer({ inputShape: c.shape }));
      for (const layer of c.layers()) model.add(layer);
      const bytes = exportToOnnx(model);
      model.dispose();
      const checks = await checkWeightGradients(bytes, description(c.shape));
      assert.ok(checks.length >= 2, 'every weight of the classifier is trainable by default');
      for (const { weight, numeric, analytic, scale } of checks) {
        assert.ok(scale > 0, `${weight}: the gradient is not all zero`);
        assert.ok(
          Math.abs(numeric - analytic) <= 2e-3 * scale,
          `${weight}: finite difference ${numeric} vs gradient ${analytic} (scale ${scale})`,
        );
      }
    });
  }

  for (const row of CONV_ROWS) {
    it(`matches central finite differences for a Conv's kernel and bias: ${row.name}`, async () => {
      const graph = new TinyGraph(row.shape, 13, 5);
      const { bytes, description: tiny } = await graph.classifier(graph.node('Tanh', [row.build(graph)]));
      const checks = await checkWeightGradients(bytes, tiny);
      assert.equal(checks.length, 4, 'kernel, bias, and the head Gemm weights');
      for (const { weight, numeric, analytic, scale } of checks) {
        assert.ok(scale > 0, `${weight}: the gradient is not all zero`);
        assert.ok(
          Math.abs(numeric - analytic) <= 2e-3 * scale,
          `${weight}: finite difference ${numeric} vs gradient ${analytic} (scale ${scale})`,
        );
      }
    });
  }

  it('refuses a weight that is not an initializer, naming it', async () => {
    const model = tf.sequential();
    model.add(tf.layers.inputLayer({ inputShape: [4, 4, 1] }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 4 }));
    const bytes = exportToOnnx(model);
    model.dispose();
    await assert.rejects(
      buildWeightGradientModel(bytes, description([4, 4, 1]), { weights: ['nope'] }),
      /weights\[0\] "nope" is not an initializer/,
    );
  });
});
