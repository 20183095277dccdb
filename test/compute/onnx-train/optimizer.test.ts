import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildArchitecture } from '../../../src/compute/architectures.js';
import { useBackend } from '../../../src/compute/backend.js';
import { optimizerSettings, TypedArrayOptimizer } from '../../../src/compute/onnx-train/optimizer.js';
import { OnnxTrainer } from '../../../src/compute/onnx-train/trainer.js';
import { trainingGraph } from '../../../src/compute/onnx-train/graph.js';
import { Random } from '../../../src/common/random.js';

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
};

describe('onnxruntime training engine: optimisers', () => {
  before(async () => {
    await useBackend('wasm');
  });

  const cases = [
    { kind: 'adam', reference: () => tf.train.adam(0.01) },
    { kind: 'sgd-momentum', reference: () => tf.train.momentum(0.01, 0.9) },
  ] as const;
  for (const c of cases) {
    it(`${c.kind} on typed arrays takes tfjs's steps (5 steps, <= 1e-6)`, () => {
      const random = new Random(3);
      const start = Float32Array.from({ length: 50 }, () => random.normal());
      const gradients = Array.from({ length: 5 }, () => Float32Array.from({ length: 50 }, () => random.normal()));
      const ours = Float32Array.from(start);
      const optimizer = new TypedArrayOptimizer(optimizerSettings(c.kind, 0.01), [50]);
      for (const g of gradients) optimizer.step([ours], [g]);
      const variable = tf.variable(tf.tensor1d(start));
      const reference = c.reference();
      for (const g of gradients)
        tf.tidy(() => reference.applyGradients([{ name: variable.name, tensor: tf.tensor1d(g) }]));
      const expected = variable.dataSync();
      reference.dispose();
      variable.dispose();
      assert.ok(maxDifference(ours, expected) <= 1e-6, `max |difference| ${maxDifference(ours, expected)}`);
      assert.ok(maxDifference(ours, start) > 1e-3, 'the weights moved');
    });

    it(
      `${c.kind} in the graph takes the same steps as on typed arrays ` +
        `(3 steps of an MLP${c.kind === 'sgd-momentum' ? ', weight decay 0.05' : ''}, <= 1e-6)`,
      async () => {
        const n = 16;
        const random = new Random(4);
        const images = Float32Array.from({ length: n * 784 }, () => random.next());
        const targets = new Float32Array(n * 10);
        for (let i = 0; i < n; i++) targets[i * 10 + random.int(10)] = 1;
        const batch = { count: n, images, targets, sampleWeights: new Float32Array(n).fill(1 / n), masks: [] };
        const weightsAfter = async (optimizerInGraph: boolean) => {
          const model = buildArchitecture('mlp', { imageShape: [28, 28, 1], classes: 10, seed: 2 });
          const trainer = await OnnxTrainer.create(await trainingGraph(model), {
            loss: 'softmax-cross-entropy',
            classes: 10,
            optimizer: optimizerSettings(c.kind, 0.01, 0.9, c.kind === 'sgd-momentum' ? 0.05 : 0),
            threads: 1,
            optimizerInGraph,
          });
          for (let s = 0; s < 3; s++) await trainer.step(batch);
          trainer.writeBack();
          await trainer.dispose();
          const weights = model.getWeights().map((w) => w.dataSync().slice());
          model.dispose();
          return weights;
        };
        const typed = await weightsAfter(false);
        const inGraph = await weightsAfter(true);
        typed.forEach((w, i) =>
          assert.ok(
            maxDifference(w, inGraph[i] as ArrayLike<number>) <= 1e-6,
            `weight ${i}: max |difference| ${maxDifference(w, inGraph[i] as ArrayLike<number>)}`,
          ),
        );
      },
    );
  }

  it("sgd-momentum's weight decay is PyTorch's: g + wd w into the velocity (5 steps, <= 1e-6)", () => {
    const random = new Random(5);
    const start = Float32Array.from({ length: 50 }, () => random.normal());
    const gradients = Array.from({ length: 5 }, () => Float32Array.from({ length: 50 }, () => random.normal()));
    const ours = Float32Array.from(start);
    const optimizer = new TypedArrayOptimizer(optimizerSettings('sgd-momentum', 0.05, 0.9, 1e-2), [50]);
    for (const g of gradients) optimizer.step([ours], [g]);
    const w = Array.from(start);
    const velocity = new Array<number>(50).fill(0);
    for (const g of gradients)
      for (let i = 0; i < 50; i++) {
        velocity[i] = 0.9 * (velocity[i] as number) + (g[i] as number) + 1e-2 * (w[i] as number);
        w[i] = (w[i] as number) - 0.05 * (velocity[i] as number);
      }
    assert.ok(maxDifference(ours, w) <= 1e-6, `max |difference| ${maxDifference(ours, w)}`);
  });

  it('refuses an unknown optimiser or a non-positive learning rate, naming the key', () => {
    assert.throws(() => optimizerSettings('rmsprop', 0.1), /optimizer.*one of adam, sgd-momentum/);
    assert.throws(() => optimizerSettings('adam', 0), /learningRate.*a positive number/);
    assert.throws(() => optimizerSettings('sgd-momentum', -1), /learningRate.*a non-negative number/);
    assert.throws(() => optimizerSettings('sgd-momentum', 0.1, 0.9, -1), /weightDecay.*a non-negative number/);
    assert.equal(optimizerSettings('sgd-momentum', 0).learningRate, 0, 'SGD at rate 0 keeps its weights');
  });
});
