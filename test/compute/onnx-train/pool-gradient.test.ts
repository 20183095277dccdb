import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../../src/compute/backend.js';
import { optimizerSettings } from '../../../src/compute/onnx-train/optimizer.js';
import { OnnxTrainer } from '../../../src/compute/onnx-train/trainer.js';
import { trainingGraph } from '../../../src/compute/onnx-train/graph.js';
import { weightedLoss } from '../../../src/compute/train.js';
import { loadEmbeddedMnist } from '../../../src/data/index.js';

/**
 * The training graph's MaxPool gradient (max-pool-first.ts) reads the pool's Indices with a
 * MaxUnpool, which writes rather than adds where windows share a maximum; overlapping windows
 * take the gradient builder's first-maximum path instead. Both against tfjs on real digits, whose
 * flat backgrounds tie in many windows, with the Relu moved after the pool (model.ts).
 */
describe('onnxruntime training engine: MaxPool gradients', () => {
  before(async () => {
    await useBackend('wasm');
  });

  const pools: { name: string; pool: { poolSize: number; strides: number; padding?: 'same' | 'valid' } }[] = [
    { name: '2x2 stride 2 on an odd size (MaxUnpool)', pool: { poolSize: 2, strides: 2 } },
    { name: '3x3 stride 2, overlapping windows', pool: { poolSize: 3, strides: 2 } },
    { name: '3x3 stride 2, same padding, overlapping', pool: { poolSize: 3, strides: 2, padding: 'same' } },
  ];
  for (const { name, pool } of pools) {
    it(`${name}: one step's weight gradients equal tfjs's (<= 1e-4)`, async () => {
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [28, 28, 1],
            filters: 4,
            kernelSize: 3,
            activation: 'relu',
            kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
          }),
          tf.layers.maxPooling2d(pool),
          tf.layers.flatten(),
          tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        ],
      });
      const digits = loadEmbeddedMnist();
      const n = 6;
      const images = digits.images.slice(0, n * 784);
      const targets = new Float32Array(n * 10).map((_, k) => (k % 10 === digits.labels[Math.floor(k / 10)] ? 1 : 0));
      const trainer = await OnnxTrainer.create(await trainingGraph(model), {
        loss: 'softmax-cross-entropy',
        classes: 10,
        optimizer: optimizerSettings('adam', 1e-3),
        threads: 1,
        optimizerInGraph: false,
      });
      try {
        const { gradients } = await trainer.gradients({
          count: n,
          images,
          targets,
          sampleWeights: new Float32Array(n).fill(1 / n),
          masks: [],
        });
        const expected = tf.tidy(() => {
          const variables = trainer.trainable.map((w) => w.variable.read() as tf.Variable);
          const { grads } = tf.variableGrads(
            () =>
              weightedLoss(
                model,
                [{ images: tf.tensor4d(images, [n, 28, 28, 1]), labels: tf.tensor2d(targets, [n, 10]) }],
                false,
              ),
            variables,
          );
          return variables.map((v) => grads[v.name]?.dataSync() as Float32Array);
        });
        trainer.trainable.forEach((w, i) => {
          const difference = Math.max(
            ...Array.from(gradients[i] as Float32Array, (g, k) =>
              Math.abs(g - ((expected[i] as Float32Array)[k] as number)),
            ),
          );
          assert.ok(difference <= 1e-4, `${w.variable.name}: max |difference| ${difference}`);
        });
      } finally {
        await trainer.dispose();
        model.dispose();
      }
    });
  }
});
