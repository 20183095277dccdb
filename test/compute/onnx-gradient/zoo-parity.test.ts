import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Random } from '../../../src/common/random.js';
import { ARCHITECTURES, buildArchitecture } from '../../../src/compute/architectures.js';
import { useBackend } from '../../../src/compute/backend.js';
import { createOnnxSurrogate } from '../../../src/compute/onnx-gradient/surrogate.js';
import { exportToOnnx } from '../../../src/targets/onnx/export.js';
import { normwiseRelativeError } from './finite-differences.js';

const SHAPE = [28, 28, 1] as const;
const CLASSES = 10;

describe('ONNX gradient: zoo architectures against tfjs', () => {
  before(async () => {
    await useBackend('wasm');
  });

  for (const name of ARCHITECTURES.names()) {
    it(`${name}: cross-entropy input gradient through the exported ONNX equals tf.grad (<= 1e-4)`, async () => {
      const model = buildArchitecture(name, { imageShape: SHAPE, classes: CLASSES, seed: 3 });
      const surrogate = await createOnnxSurrogate(exportToOnnx(model), {
        inputName: 'input', outputName: 'logits', layout: 'NHWC', inputShape: SHAPE, inputRange: [0, 1], normalization: { mean: [0], std: [1] }, outputKind: 'logits', classes: CLASSES,
      });
      try {
        const count = 3;
        const random = new Random(11);
        const images = Float32Array.from({ length: count * 784 }, () => random.next());
        const labels = Int32Array.from({ length: count }, () => random.int(CLASSES));
        const actual = await surrogate.lossGradient(images, labels, { loss: 'cross-entropy' });
        const [expectedGradient, expectedLoss] = tf.tidy(() => {
          const x = tf.tensor4d(images, [count, ...SHAPE]);
          const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES);
          const perImage = (v: tf.Tensor4D) => tf.losses.softmaxCrossEntropy(oneHot, model.predict(v) as tf.Tensor2D, undefined, undefined, tf.Reduction.NONE);
          return [tf.grad((v: tf.Tensor) => perImage(v as tf.Tensor4D).sum())(x).dataSync() as Float32Array, perImage(x).dataSync() as Float32Array];
        });
        assert.ok(normwiseRelativeError(actual.gradient, expectedGradient) <= 1e-4, `gradient error ${normwiseRelativeError(actual.gradient, expectedGradient)}`);
        assert.ok(normwiseRelativeError(actual.loss, expectedLoss) <= 1e-5);
      } finally {
        await surrogate.dispose();
        model.dispose();
      }
    });
  }
});
