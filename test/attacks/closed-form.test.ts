import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { perturbationNorms } from '../../src/attacks/index.js';
import { useBackend } from '../../src/compute/backend.js';
import { craftTensors, images, linearModel } from './fixtures.js';

/**
 * On a linear softmax model the input gradient of the cross-entropy is known in closed form:
 * dL/dx = W (softmax(xW + b) - onehot(y)). Attacks are checked against it.
 */
describe('attacks on a linear softmax model (closed form)', () => {
  const shape: [number, number, number] = [4, 4, 1];
  const classes = 5;
  const n = 8;
  let linear: ReturnType<typeof linearModel>;
  let x: tf.Tensor4D;
  let labels: tf.Tensor1D;
  const ids = Array.from({ length: n }, (_, i) => i);

  before(async () => {
    await useBackend('wasm');
    linear = linearModel(shape, classes);
    // Interior pixels: a step of 0.1 is never clipped by [0, 1].
    x = images(n, shape, 31, 0.3, 0.7);
    labels = tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32');
  });
  after(() => {
    linear.dispose();
    tf.dispose([x, labels]);
  });

  /** W (p - onehot(target)), one row per image: the analytic input gradient. */
  const analyticGradient = (target: tf.Tensor1D) =>
    tf.tidy(() => {
      const p = tf.softmax(linear.model(x));
      return p.sub(tf.oneHot(target, classes)).matMul(linear.weights, false, true);
    });

  const perturbation = (adversarial: tf.Tensor4D) => tf.tidy(() => adversarial.sub(x).reshape([n, 16]));

  it('FGSM perturbation equals eps times the sign of the analytic input gradient', async () => {
    const adversarial = await craftTensors('fgsm', linear.surrogate, {
      images: x,
      trueLabels: labels,
      ids,
      eps: 0.1,
      labelSource: 'true',
    });
    const expected = tf.tidy(() => analyticGradient(labels).sign().mul(0.1));
    const diff = tf.tidy(() => perturbation(adversarial).sub(expected).abs().max().dataSync()[0] as number);
    tf.dispose([adversarial, expected]);
    assert.ok(diff < 1e-6, `max difference ${diff}`);
  });

  it(
    'step-ll moves towards the least-likely class: -eps sign of its ' + 'gradient, and raises its probability',
    async () => {
      const leastLikely = tf.tidy(() => linear.model(x).argMin(1).cast('int32') as tf.Tensor1D);
      const adversarial = await craftTensors('step-ll', linear.surrogate, {
        images: x,
        trueLabels: labels,
        ids,
        eps: 0.1,
        labelSource: 'true',
      });
      const expected = tf.tidy(() => analyticGradient(leastLikely).sign().mul(-0.1));
      const diff = tf.tidy(() => perturbation(adversarial).sub(expected).abs().max().dataSync()[0] as number);
      const [before, after] = tf.tidy(() => {
        const mask = tf.oneHot(leastLikely, classes);
        return [
          tf.softmax(linear.model(x)).mul(mask).sum(1).dataSync(),
          tf.softmax(linear.model(adversarial)).mul(mask).sum(1).dataSync(),
        ];
      }) as unknown as [Float32Array, Float32Array];
      tf.dispose([leastLikely, adversarial, expected]);
      assert.ok(diff < 1e-6, `max difference ${diff}`);
      for (let k = 0; k < n; k++)
        assert.ok((after[k] as number) > (before[k] as number), `image ${k}: ${before[k]} -> ${after[k]}`);
    },
  );

  // Each against the analytic gradient, not against FGSM through the same loop: a loop that
  // ignored `steps` or `stepSize` would make both sides wrong alike.
  for (const [attack, what, params] of [
    ['bim', 'BIM with one step of eps', { steps: 1, stepSize: 0.1 }],
    ['pgd', 'PGD with no random start and one step of eps', { steps: 1, stepSize: 0.1, randomStart: false }],
    ['mi-fgsm', 'MI-FGSM with one step of eps', { steps: 1, stepSize: 0.1 }],
    ['i-fgsm', 'I-FGSM with one step of eps', { steps: 1, stepSize: 0.1 }],
  ] as const) {
    it(`${what} is eps times the sign of the analytic input gradient`, async () => {
      const adversarial = await craftTensors(attack, linear.surrogate, {
        images: x,
        trueLabels: labels,
        ids,
        eps: 0.1,
        labelSource: 'true',
        params,
      });
      const expected = tf.tidy(() => analyticGradient(labels).sign().mul(0.1));
      const diff = tf.tidy(() => perturbation(adversarial).sub(expected).abs().max().dataSync()[0] as number);
      tf.dispose([adversarial, expected]);
      assert.ok(diff < 1e-6, `max difference ${diff}`);
    });
  }

  it('PGD reads its random start: from a random point of the ball its one step is not FGSM', async () => {
    const craft = (randomStart: boolean) =>
      craftTensors('pgd', linear.surrogate, {
        images: x,
        trueLabels: labels,
        ids,
        eps: 0.1,
        labelSource: 'true',
        params: { steps: 1, stepSize: 0.05, randomStart },
      });
    const [plain, random] = [await craft(false), await craft(true)];
    const moved = tf.tidy(() => plain.sub(random).abs().max().dataSync()[0] as number);
    tf.dispose([plain, random]);
    assert.ok(moved > 1e-3, `the random start moved the result by ${moved}`);
  });

  it('C&W L2 finds a smaller L2 perturbation than FGSM at equal or better success', async () => {
    const wide = images(n, shape, 41, 0.1, 0.9);
    const fooled = (adversarial: tf.Tensor4D) =>
      tf.tidy(() => linear.model(adversarial).argMax(1).notEqual(labels).dataSync()) as unknown as Uint8Array;
    const eps = 0.3;
    const fgsmImages = await craftTensors('fgsm', linear.surrogate, {
      images: wide,
      trueLabels: labels,
      ids,
      eps,
      labelSource: 'true',
    });
    const cwImages = await craftTensors('cw-l2', linear.surrogate, {
      images: wide,
      trueLabels: labels,
      ids,
      eps,
      labelSource: 'true',
      params: { steps: 200, binarySearchSteps: 6, learningRate: 0.02, clipToLinf: false },
    });
    const fgsmFooled = fooled(fgsmImages);
    const cwFooled = fooled(cwImages);
    const clean = wide.dataSync() as Float32Array;
    const fgsmL2 = perturbationNorms(fgsmImages.dataSync() as Float32Array, clean, n).l2;
    const cwL2 = perturbationNorms(cwImages.dataSync() as Float32Array, clean, n).l2;
    tf.dispose([wide, fgsmImages, cwImages]);
    const count = (f: Uint8Array) => f.reduce((s, v) => s + v, 0);
    assert.ok(count(cwFooled) >= count(fgsmFooled), `C&W fooled ${count(cwFooled)}, FGSM ${count(fgsmFooled)}`);
    let both = 0;
    let cwSum = 0;
    let fgsmSum = 0;
    for (let k = 0; k < n; k++) {
      if (cwFooled[k] && fgsmFooled[k]) {
        both++;
        cwSum += cwL2[k] as number;
        fgsmSum += fgsmL2[k] as number;
      }
    }
    assert.ok(both > 0, 'no example fooled by both');
    assert.ok(cwSum < fgsmSum, `mean L2: C&W ${cwSum / both}, FGSM ${fgsmSum / both}`);
  });
});
