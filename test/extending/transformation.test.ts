/**
 * Worked example (docs/extending.md): adding an input transformation. Flip: the gradient averaged
 * over the image and its mirror image (left-right), the simplest of the augmentation family of
 * Lin et al. 1908.06281 and its successors. In the tree it would be
 * src/attacks/transforms/flip.ts plus one line in src/attacks/transforms/registry.ts; a suite
 * then names it as { "name": "mi-fgsm", "transforms": ["flip"] }.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { craftAdversarial, TRANSFORMS } from '../../src/attacks/index.js';
import { defineTransform } from '../../src/attacks/transforms/types.js';
import { useBackend } from '../../src/compute/backend.js';
import { images, linearModel } from '../attacks/fixtures.js';

// `forward` is a pure tfjs function of the batch: the backward pass is its vector-Jacobian product.
const flip = defineTransform({
  name: 'flip',
  description: 'the gradient averaged over the image and its left-right mirror image',
  parameters: [],
  plan: () => ({
    copies: 2,
    identity: false,
    forward: (x) => tf.concat([x, tf.reverse(x, 2)], 0) as tf.Tensor4D,
  }),
});

describe('extending: an input transformation (flip)', () => {
  const shape: [number, number, number] = [4, 4, 1];
  before(async () => {
    await useBackend('wasm');
    TRANSFORMS.add(flip.name, flip);
  });
  after(() => TRANSFORMS.remove(flip.name));

  it("stacks on FGSM: one step of eps along the sign of the two copies' mean gradient", async () => {
    const linear = linearModel(shape, 3);
    const x = images(3, shape, 9, 0.3, 0.7);
    const labels = Int32Array.of(2, 0, 1);
    const adversarial = await craftAdversarial('fgsm', linear.surrogate, {
      images: x.dataSync() as Float32Array,
      trueLabels: labels,
      ids: [0, 1, 2],
      eps: 0.05,
      labelSource: 'true',
      transforms: ['flip'],
    });
    const expected = tf.tidy(() => {
      const gradientAt = (input: tf.Tensor4D) =>
        tf
          .softmax(linear.model(input))
          .sub(tf.oneHot(tf.tensor1d(labels, 'int32'), 3))
          .matMul(linear.weights, false, true)
          .reshape([3, ...shape]) as tf.Tensor4D;
      // The mirror copy's gradient, mirrored back onto the image's pixels.
      const mean = gradientAt(x)
        .add(tf.reverse(gradientAt(tf.reverse(x, 2)), 2))
        .div(2);
      return x.add(mean.sign().mul(0.05)).dataSync();
    });
    adversarial.forEach((v, i) => assert.ok(Math.abs(v - (expected[i] as number)) < 1e-6, `pixel ${i}: ${v}`));
    x.dispose();
    linear.dispose();
  });
});
