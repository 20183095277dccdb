import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ATTACKS, craftAdversarial, perturbationNorms, resolveTrainingLabels, type AttackParams, type LabelSource } from '../../src/attacks/index.js';
import { useBackend } from '../../src/compute/backend.js';
import { images, linearModel, tinyCnn } from './fixtures.js';

/** Every registered attack, plus the L2 variant of PGD; C&W kept short. */
const CASES: { attack: string; params: Partial<AttackParams>; bound: 'linf' | 'l2' }[] = [
  ...ATTACKS.names().map((attack) => ({
    attack,
    params: attack === 'cw-l2' ? { steps: 10, binarySearchSteps: 2 } : attack === 'advgan' ? { epochs: 1 } : {},
    bound: 'linf' as const,
  })),
  { attack: 'pgd', params: { norm: 'l2', stepSize: 0.5 }, bound: 'l2' },
];

describe('attack invariants (every registered attack)', () => {
  const eps = 0.1;
  let fixture: ReturnType<typeof tinyCnn>;
  let x: tf.Tensor4D;
  let labels: tf.Tensor1D;
  const ids = [10, 11, 12, 13, 14, 15];

  before(async () => {
    await useBackend('wasm');
    fixture = tinyCnn();
    x = images(6, [8, 8, 1], 21);
    labels = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
  });
  after(() => {
    fixture.dispose();
    tf.dispose([x, labels]);
  });

  // Fixed attacker images for the generative attack, so its generator does not depend on the batch.
  const training = { images: images(16, [8, 8, 1], 77).dataSync() as Float32Array, labels: Int32Array.from({ length: 16 }, (_, i) => i % 3) };
  const craft = (c: (typeof CASES)[number], input: tf.Tensor4D, y: tf.Tensor1D, idList: number[], labelSource: LabelSource = 'true', seed = 5) =>
    craftAdversarial(c.attack, fixture.model, { images: input, trueLabels: y, ids: idList, eps: c.bound === 'l2' ? 1.0 : eps, labelSource, params: { ...c.params, seed }, training });

  for (const c of CASES) {
    const label = `${c.attack}${c.bound === 'l2' ? ' (L2)' : ''}`;

    it(`${label}: stays inside the eps-ball and [0, 1], and releases every tensor`, () => {
      const before = tf.memory().numTensors;
      const adversarial = craft(c, x, labels, ids);
      const values = adversarial.dataSync() as Float32Array;
      adversarial.dispose();
      assert.equal(tf.memory().numTensors, before, 'tensor leak');
      const norms = perturbationNorms(values, x.dataSync() as Float32Array, 6);
      const budget = c.bound === 'l2' ? 1.0 : eps;
      for (const n of c.bound === 'l2' ? norms.l2 : norms.linf) assert.ok(n <= budget + 1e-6, `${c.bound} norm ${n} > ${budget}`);
      for (const v of values) assert.ok(v >= 0 && v <= 1, `pixel ${v} outside [0, 1]`);
      assert.ok(norms.linf.some((n) => n > 0), 'no image was perturbed at all');
    });

    it(`${label}: is deterministic under a seed`, () => {
      const a = craft(c, x, labels, ids);
      const b = craft(c, x, labels, ids);
      assert.deepEqual(a.dataSync(), b.dataSync());
      tf.dispose([a, b]);
    });

    it(`${label}: gives the same images batched as one by one`, () => {
      const batched = craft(c, x, labels, ids);
      const whole = batched.dataSync() as Float32Array;
      const size = 64;
      for (let k = 0; k < 6; k++) {
        const one = tf.tidy(() => craft(c, x.slice([k, 0, 0, 0], [1, 8, 8, 1]), labels.slice([k], [1]), [ids[k] as number]));
        const single = one.dataSync();
        one.dispose();
        for (let i = 0; i < size; i++) {
          assert.ok(Math.abs((single[i] as number) - (whole[k * size + i] as number)) <= 1e-5, `image ${k} pixel ${i}: ${single[i]} vs ${whole[k * size + i]}`);
        }
      }
      batched.dispose();
    });
  }

  it('labels a generative attack\'s training images with the model\'s predictions for any image shape', () => {
    const shape: [number, number, number] = [4, 6, 3];
    const linear = linearModel(shape, 5, 9);
    const pixels = images(7, shape, 12);
    const training = { images: pixels.dataSync() as Float32Array, labels: new Int32Array(7) };
    const resolved = resolveTrainingLabels(linear.model, training, 'predicted', shape);
    const expected = tf.tidy(() => linear.model(pixels).argMax(1).dataSync());
    assert.deepEqual(Array.from(resolved.labels), Array.from(expected));
    assert.equal(resolveTrainingLabels(linear.model, training, 'true', shape), training);
    tf.dispose(pixels);
    linear.dispose();
  });

  it('answers an unknown attack with the registered names', () => {
    assert.throws(
      () => craftAdversarial('deepfool', fixture.model, { images: x, trueLabels: labels, ids, eps, labelSource: 'true' }),
      /unknown attack "deepfool"; known attacks: fgsm, step-ll, rand-fgsm, bim, iter-ll, pgd, mi-fgsm, cw-l2, advgan/,
    );
  });

  it('refuses eps outside [0, 1] and a bad step count, naming the parameter', () => {
    assert.throws(() => craftAdversarial('fgsm', fixture.model, { images: x, trueLabels: labels, ids, eps: 2, labelSource: 'true' }), /fgsm: eps: got 2, expected a number in \[0, 1\]/);
    assert.throws(
      () => craftAdversarial('bim', fixture.model, { images: x, trueLabels: labels, ids, eps, labelSource: 'true', params: { steps: 0 } }),
      /bim: steps: got 0, expected a positive integer/,
    );
  });

  it('uses the model\'s prediction with labelSource "predicted" and the truth with "true"', () => {
    const predicted = tf.tidy(() => fixture.model(x).argMax(1).cast('int32') as tf.Tensor1D);
    const viaPredicted = craftAdversarial('fgsm', fixture.model, { images: x, trueLabels: labels, ids, eps, labelSource: 'predicted' });
    const viaTruthOfPrediction = craftAdversarial('fgsm', fixture.model, { images: x, trueLabels: predicted, ids, eps, labelSource: 'true' });
    assert.deepEqual(viaPredicted.dataSync(), viaTruthOfPrediction.dataSync());
    tf.dispose([predicted, viaPredicted, viaTruthOfPrediction]);
  });
});
