import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../../src/compute/backend.js';
import { resetEngine, useEngine } from '../../../src/compute/engine.js';
import { trainingGraph } from '../../../src/compute/onnx-train/graph.js';
import { optimizerSettings } from '../../../src/compute/onnx-train/optimizer.js';
import { OnnxTrainer } from '../../../src/compute/onnx-train/trainer.js';
import { weightedLoss } from '../../../src/compute/train.js';
import { loadEmbeddedMnist, take } from '../../../src/data/index.js';
import { NETWORKS } from './networks.js';
import { assertSeededRunsRepeat } from './repeatable.js';

const SHAPE = [28, 28, 1] as const;

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs((a[k] as number) - (b[k] as number)));
  return worst;
};

describe('onnxruntime training engine: normalisation layers', () => {
  const digits = take(loadEmbeddedMnist(), 96);

  before(async () => {
    await useBackend('wasm');
  });

  for (const [name, build] of Object.entries(NETWORKS)) {
    it(`${name}: one step's weight gradients and moving statistics equal tfjs's (<= 1e-4)`, async () => {
      const n = 8;
      const model = build(1);
      const images = digits.images.subarray(0, n * 784);
      const targets = new Float32Array(n * 10);
      for (let i = 0; i < n; i++) targets[i * 10 + (digits.labels[i] as number)] = 1;
      const trainer = await OnnxTrainer.create(await trainingGraph(model), {
        loss: 'softmax-cross-entropy',
        classes: 10,
        optimizer: optimizerSettings('adam', 1e-3),
        threads: 1,
        optimizerInGraph: false,
      });
      try {
        const ours = await trainer.gradients({
          count: n,
          images,
          targets,
          sampleWeights: new Float32Array(n).fill(1 / n),
          masks: [],
        });
        const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
        // training: true, so tfjs normalises by the batch and moves its statistics too.
        const reference = tf.variableGrads(
          () =>
            weightedLoss(
              model,
              [{ images: tf.tensor4d(images, [n, ...SHAPE]), labels: tf.tensor2d(targets, [n, 10]) }],
              true,
            ),
          variables,
        );
        const statistics = model.weights.filter((w) => !w.trainable);
        const tfjsMoving = statistics.map((w) => w.read().dataSync().slice());
        try {
          assert.equal(trainer.trainable.length, variables.length, 'every trainable variable has a gradient');
          assert.ok(
            Math.abs(ours.loss - (reference.value.dataSync()[0] as number)) <= 1e-4,
            `loss ${ours.loss} vs ${reference.value.dataSync()[0]}`,
          );
          trainer.trainable.forEach((w, i) => {
            const expected = reference.grads[(w.variable.read() as tf.Variable).name]?.dataSync() as Float32Array;
            const worst = maxDifference(ours.gradients[i] as Float32Array, expected);
            assert.ok(worst <= 1e-4, `${w.variable.name}: max |difference| ${worst}`);
          });
          trainer.writeBack();
          statistics.forEach((w, i) => {
            const worst = maxDifference(w.read().dataSync(), tfjsMoving[i] as Float32Array);
            assert.ok(worst <= 1e-5, `${w.name}: moving statistic differs from tfjs's by ${worst}`);
          });
          if (name.startsWith('BatchNormalization'))
            assert.equal(statistics.length, 4, 'two layers, a moving mean and variance each');
        } finally {
          tf.dispose([reference.value, ...Object.values(reference.grads)]);
        }
      } finally {
        await trainer.dispose();
        model.dispose();
      }
    });

    it(`${name}: a seeded run is bit-for-bit repeatable (statistics included), another seed differs`, async () => {
      const set = { images: digits.images, imageShape: digits.imageShape, targets: digits.labels, classes: 10 };
      await assertSeededRunsRepeat(() => build(1), set, useEngine('onnxruntime', 1));
    });
  }

  after(() => {
    resetEngine();
  });
});

describe('ONNX training graph: what it refuses, naming the layer', () => {
  const refusal = async (build: () => tf.LayersModel, pattern: RegExp) => {
    const model = build();
    try {
      await assert.rejects(trainingGraph(model), pattern);
    } finally {
      model.dispose();
    }
  };

  it('BatchNormalization without center or scale (tfjs trains it only with both)', async () => {
    await refusal(() => {
      const model = tf.sequential();
      model.add(tf.layers.dense({ inputShape: [4], units: 3 }));
      model.add(tf.layers.batchNormalization({ center: false }));
      return model;
    }, /layer batch_normalization\w* \(BatchNormalization\) has center or scale off/);
  });

  it('a layer applied twice, and a model with two outputs', async () => {
    await refusal(() => {
      const input = tf.input({ shape: [4] });
      const shared = tf.layers.dense({ units: 4, name: 'shared_dense' });
      const output = shared.apply(shared.apply(input)) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: output });
    }, /layer shared_dense \(Dense\) is applied more than once/);
    await refusal(() => {
      const input = tf.input({ shape: [4] });
      return tf.model({
        inputs: input,
        outputs: [
          tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor,
          tf.layers.dense({ units: 3 }).apply(input) as tf.SymbolicTensor,
        ],
      });
    }, /has 1 inputs and 2 outputs; one of each is supported/);
  });
});
