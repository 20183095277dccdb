import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { architectureFingerprint, buildArchitecture, ARCHITECTURES } from '../../src/compute/architectures.js';
import { useBackend } from '../../src/compute/backend.js';
import { accuracy, argmaxRows, predictLogits, trainClassifier, type TrainingSet } from '../../src/compute/train.js';
import { loadEmbeddedMnist, take, stratifiedSplit } from '../../src/data/index.js';
import { skipBecause } from '../helpers/skip.js';

describe('trainClassifier', () => {
  const { train, test } = stratifiedSplit(loadEmbeddedMnist(), 0.2, 0);
  const small = take(train, 1200);
  const set: TrainingSet = { images: small.images, imageShape: small.imageShape, targets: small.labels, classes: 10 };

  before(async () => {
    await useBackend('wasm');
  });

  it('fingerprints an architecture by what it builds: stable across builds, not across definitions', () => {
    const input = { imageShape: [28, 28, 1] as const, classes: 10, seed: 3 };
    const rbf = architectureFingerprint('rbf', input);
    buildArchitecture('mlp', input).dispose(); // moves the global layer-name counter
    assert.equal(architectureFingerprint('rbf', input), rbf);
    assert.notEqual(architectureFingerprint('rbf', { ...input, classes: 5 }), rbf);
    assert.notEqual(architectureFingerprint('softmax', input), architectureFingerprint('mlp', input));
  });

  it('learns the digits: an MLP passes 80% test accuracy after 3 epochs on 1,200 images', async () => {
    const model = buildArchitecture('mlp', { imageShape: [28, 28, 1], classes: 10, seed: 1 });
    await trainClassifier(model, set, { epochs: 3, batchSize: 32, learningRate: 1e-3, seed: 1 });
    const evalSet = take(test, 500);
    const acc = accuracy(argmaxRows(predictLogits(model, evalSet.images, evalSet.imageShape), 10), evalSet.labels);
    model.dispose();
    assert.ok(acc > 0.8, `accuracy ${acc}`);
  });

  it('is deterministic for a seed: same weights twice, different for another seed', async () => {
    const weightsAfter = async (seed: number) => {
      const model = buildArchitecture('cnn-small', { imageShape: [28, 28, 1], classes: 10, seed });
      await trainClassifier(
        model,
        { ...set, images: set.images.subarray(0, 128 * 784), targets: small.labels.subarray(0, 128) },
        { epochs: 1, batchSize: 64, learningRate: 1e-3, seed },
      );
      const values = model.getWeights()[0]?.dataSync().slice() as Float32Array;
      model.dispose();
      return values;
    };
    assert.deepEqual(await weightsAfter(3), await weightsAfter(3));
    assert.notDeepEqual(await weightsAfter(3), await weightsAfter(4));
  });

  for (const name of ARCHITECTURES.names()) {
    it(`leaves no tensor behind after a training step and an input-gradient step: ${name}`, async () => {
      const model = buildArchitecture(name, { imageShape: [28, 28, 1], classes: 10, seed: 0 });
      const before = tf.memory().numTensors;
      await trainClassifier(
        model,
        { ...set, images: set.images.subarray(0, 16 * 784), targets: small.labels.subarray(0, 16) },
        { epochs: 1, batchSize: 8, learningRate: 1e-3, seed: 0 },
      );
      assert.equal(tf.memory().numTensors, before, 'after a training step');
      tf.tidy(() => {
        const x = tf.tensor4d(set.images.subarray(0, 8 * 784), [8, 28, 28, 1]);
        const y = tf.oneHot(tf.tensor1d(small.labels.subarray(0, 8), 'int32'), 10);
        tf.grad((input: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, model.apply(input) as tf.Tensor))(x).sign();
      });
      assert.equal(tf.memory().numTensors, before, 'after an input-gradient step');
      model.dispose();
    });
  }

  it('fits soft targets (distillation) as well as hard labels', async () => {
    const soft = new Float32Array(64 * 10);
    for (let i = 0; i < 64; i++) {
      const label = small.labels[i] as number;
      soft[i * 10 + label] = 0.9;
      soft[i * 10 + 9 - label] = (soft[i * 10 + 9 - label] as number) + 0.1;
    }
    const model = buildArchitecture('softmax', { imageShape: [28, 28, 1], classes: 10, seed: 0 });
    const result = await trainClassifier(
      model,
      { images: set.images.subarray(0, 64 * 784), imageShape: [28, 28, 1], targets: soft, classes: 10 },
      { epochs: 20, batchSize: 64, learningRate: 1e-2, seed: 0 },
    );
    model.dispose();
    assert.ok(Number.isFinite(result.finalLoss) && result.finalLoss < 1.0, `loss ${result.finalLoss}`);
  });

  it('refuses a bad batch size, naming the option', async () => {
    const model = buildArchitecture('softmax', { imageShape: [28, 28, 1], classes: 10, seed: 0 });
    await assert.rejects(
      trainClassifier(model, set, { epochs: 1, batchSize: 0, learningRate: 1e-3, seed: 0 }),
      /batchSize: got 0, expected a positive integer/,
    );
    model.dispose();
  });
});

describe('backend selection', () => {
  it('refuses an unknown backend and lists the known ones', async () => {
    await assert.rejects(
      useBackend('gpu'),
      /--backend \(or TRANSFERBENCH_BACKEND\): got "gpu", expected one of tensorflow, wasm, cpu/,
    );
  });

  it('refuses a backend that cannot load, with the reason', async function () {
    if (tf.findBackend('tensorflow') !== null)
      skipBecause(this, 'native TensorFlow (tfjs-node) is installed, so no backend here fails to load');
    await assert.rejects(useBackend('tensorflow'), /backend tensorflow is not available: .*not installed/);
  });

  it('selects wasm by default when native TensorFlow is absent, with composed kernels', async function () {
    if (tf.findBackend('tensorflow') !== null)
      skipBecause(this, 'native TensorFlow (tfjs-node) is installed and is the default');
    const info = await useBackend(undefined);
    assert.equal(info.name, 'wasm');
    assert.deepEqual(info.composedKernels, [
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'BatchMatMul',
      'MaxPoolGrad',
    ]);
  });
});
