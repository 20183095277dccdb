import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { useBackend } from '../../../src/compute/backend.js';
import { Maxout, Rbf } from '../../../src/compute/layers/index.js';
import { buildWeightGradientModel, WEIGHT_GRADIENT_IO, weightGradientName } from '../../../src/compute/onnx-gradient/weights.js';
import type { OnnxModelDescription } from '../../../src/compute/onnx-gradient/heads.js';
import { decodeModel, tensorValues } from '../../../src/compute/onnx-gradient/ir.js';
import { Random } from '../../../src/common/random.js';
import { exportToOnnx, INPUT_NAME, OUTPUT_NAME } from '../../../src/targets/onnx/export.js';

// Seeded weights: with unseeded ones a draw now and then puts a ReLU kink or a pooling tie
// within the finite difference's step, and the test failed at random.
const CASES: { name: string; shape: [number, number, number]; layers: () => tf.layers.Layer[] }[] = [
  { name: 'Conv (same, stride 2) + MaxPool + Gemm', shape: [8, 8, 2], layers: () => [tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }), tf.layers.maxPooling2d({ poolSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) })] },
  { name: 'Maxout (Gemm, Reshape, ReduceMax)', shape: [4, 4, 1], layers: () => [tf.layers.flatten(), new Maxout({ units: 5, pieces: 3, seed: 1 }), tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) })] },
  { name: 'RBF as exported (Mul, two Gemms, Add)', shape: [4, 4, 1], layers: () => [tf.layers.flatten(), new Rbf({ units: 4, seed: 2 })] },
];

const description = (shape: [number, number, number]): OnnxModelDescription => ({
  inputName: INPUT_NAME, outputName: OUTPUT_NAME, layout: 'NHWC', inputShape: shape, inputRange: [0, 1], normalization: { mean: [0], std: [1] }, outputKind: 'logits', classes: 4,
});

/** The exported weights, read back from the model bytes. */
function initializerValues(bytes: Uint8Array, names: readonly string[]): Map<string, Float32Array> {
  const initializers = decodeModel(bytes).initializers;
  return new Map(
    names.map((name) => {
      const t = initializers.get(name);
      assert.ok(t, `initializer ${name}`);
      return [name, Float32Array.from(tensorValues(t))];
    }),
  );
}

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
      const built = await buildWeightGradientModel(bytes, description(c.shape));
      assert.ok(built.weights.length >= 2, 'every weight of the classifier is trainable by default');
      const values = initializerValues(bytes, built.weights.map((w) => w.name));
      const session = await ort.InferenceSession.create(built.bytes, { intraOpNumThreads: 1 });
      const random = new Random(7);
      const n = 5;
      const size = c.shape[0] * c.shape[1] * c.shape[2];
      const images = Float32Array.from({ length: n * size }, () => random.next());
      const labels = Int32Array.from({ length: n }, () => random.int(4));
      const run = async (weights: Map<string, Float32Array>) => {
        const feeds: Record<string, ort.Tensor> = { images: new ort.Tensor('float32', images, [n, ...c.shape]), labels: new ort.Tensor('int32', labels, [n]) };
        for (const w of built.weights) feeds[w.name] = new ort.Tensor('float32', weights.get(w.name) as Float32Array, [...w.dims]);
        return session.run(feeds);
      };
      try {
        const base = await run(values);
        for (const w of built.weights) {
          const gradient = base[weightGradientName(w.name)]?.data as Float32Array;
          const direction = Float32Array.from(gradient, () => random.next() - 0.5);
          const eps = 1e-3;
          const shifted = (sign: number) => new Map([...values, [w.name, Float32Array.from(values.get(w.name) as Float32Array, (v, i) => v + sign * eps * (direction[i] as number))]]);
          const plus = (await run(shifted(1)))[WEIGHT_GRADIENT_IO.meanLoss]?.data[0] as number;
          const minus = (await run(shifted(-1)))[WEIGHT_GRADIENT_IO.meanLoss]?.data[0] as number;
          const numeric = (plus - minus) / (2 * eps);
          const analytic = gradient.reduce((s, g, i) => s + g * (direction[i] as number), 0);
          const scale = Math.sqrt(gradient.reduce((s, g) => s + g * g, 0)) * Math.sqrt(direction.reduce((s, d) => s + d * d, 0));
          assert.ok(scale > 0, `${w.name}: the gradient is not all zero`);
          assert.ok(Math.abs(numeric - analytic) <= 2e-3 * scale, `${w.name}: finite difference ${numeric} vs gradient ${analytic} (scale ${scale})`);
        }
      } finally {
        await session.release();
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
    await assert.rejects(buildWeightGradientModel(bytes, description([4, 4, 1]), { weights: ['nope'] }), /weights\[0\] "nope" is not an initializer/);
  });
});
