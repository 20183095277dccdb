import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { Random } from '../../../src/common/random.js';
import { ARCHITECTURES, buildArchitecture } from '../../../src/compute/architectures.js';
import { useBackend } from '../../../src/compute/backend.js';
import { decodeModel, tensorValues } from '../../../src/compute/onnx-gradient/ir.js';
import { createOnnxSurrogate } from '../../../src/compute/onnx-gradient/surrogate.js';
import { buildWeightGradientModel, weightGradientName } from '../../../src/compute/onnx-gradient/weights.js';
import { convertTfjs } from '../../../src/compute/network/from-tfjs.js';
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
        inputName: 'input',
        outputName: 'logits',
        layout: 'NHWC',
        inputShape: SHAPE,
        inputRange: [0, 1],
        normalization: { mean: [0], std: [1] },
        outputKind: 'logits',
        classes: CLASSES,
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
          const perImage = (v: tf.Tensor4D) =>
            tf.losses.softmaxCrossEntropy(
              oneHot,
              model.predict(v) as tf.Tensor2D,
              undefined,
              undefined,
              tf.Reduction.NONE,
            );
          return [
            tf
              .grad((v: tf.Tensor) => perImage(v as tf.Tensor4D).sum())(x)
              .dataSync() as Float32Array,
            perImage(x).dataSync() as Float32Array,
          ];
        });
        assert.ok(
          normwiseRelativeError(actual.gradient, expectedGradient) <= 1e-4,
          `gradient error ${normwiseRelativeError(actual.gradient, expectedGradient)}`,
        );
        assert.ok(normwiseRelativeError(actual.loss, expectedLoss) <= 1e-5);
      } finally {
        await surrogate.dispose();
        model.dispose();
      }
    });
  }
});

describe('ONNX gradient: zoo weight gradients against tfjs (issue 19)', () => {
  before(async () => {
    await useBackend('wasm');
  });

  // Export keeps every tfjs variable, in its tfjs layout, as an initializer (network/from-tfjs.ts).
  for (const name of ARCHITECTURES.names()) {
    it(`${name}: d(mean cross-entropy)/d(weight) equals tf.variableGrads for every weight (<= 1e-4)`, async () => {
      const model = buildArchitecture(name, { imageShape: SHAPE, classes: CLASSES, seed: 5 });
      const bytes = exportToOnnx(model);
      const built = await buildWeightGradientModel(bytes, {
        inputName: 'input',
        outputName: 'logits',
        layout: 'NHWC',
        inputShape: SHAPE,
        inputRange: [0, 1],
        normalization: { mean: [0], std: [1] },
        outputKind: 'logits',
        classes: CLASSES,
      });
      const session = await ort.InferenceSession.create(built.bytes);
      try {
        const count = 2;
        const random = new Random(12);
        const images = Float32Array.from({ length: count * 784 }, () => random.next());
        const labels = Int32Array.from({ length: count }, () => random.int(CLASSES));
        const feeds: Record<string, ort.Tensor> = {
          images: new ort.Tensor('float32', images, [count, ...SHAPE]),
          labels: new ort.Tensor('int32', labels, [count]),
        };
        for (const [weight, t] of decodeModel(bytes).initializers) {
          if (session.inputNames.includes(weight))
            feeds[weight] = new ort.Tensor('float32', Float32Array.from(tensorValues(t)), t.dims.map(Number));
        }
        const result = await session.run(feeds);
        const { grads } = tf.variableGrads(
          () => {
            const logits = model.predict(tf.tensor4d(images, [count, ...SHAPE])) as tf.Tensor2D;
            return tf.losses.softmaxCrossEntropy(
              tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES),
              logits,
              undefined,
              undefined,
              tf.Reduction.MEAN,
            ) as tf.Scalar;
          },
          model.trainableWeights.map((w) => w.read() as tf.Variable),
        );
        let compared = 0;
        for (const [onnxName, variable] of convertTfjs(model).variables) {
          const actual = result[weightGradientName(onnxName)]?.data as Float32Array | undefined;
          assert.ok(actual, `no gradient output for ${onnxName}`);
          const expected = (grads[(variable.read() as tf.Variable).name] as tf.Tensor).dataSync() as Float32Array;
          assert.ok(
            normwiseRelativeError(actual, expected) <= 1e-4,
            `${onnxName} (${variable.name}): error ${normwiseRelativeError(actual, expected)}`,
          );
          compared++;
        }
        assert.equal(compared, model.trainableWeights.length);
        tf.dispose(Object.values(grads));
      } finally {
        await session.release();
        model.dispose();
      }
    });
  }
});
