/**
 * Worked example (docs/extending.md): adding a transfer attack. The fast gradient method in L2
 * (Goodfellow et al. 1412.6572, the L2 form of Miyato et al. 1507.00677): one step of eps along
 * the L2-normalised gradient. In the tree it would be src/attacks/fgm.ts plus one line in
 * src/attacks/registry.ts; here it is registered for this file's duration.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ATTACKS, craftAdversarial, defineAttack, resolveParams } from '../../src/attacks/index.js';
import { gradientLoop } from '../../src/attacks/gradient-loop.js';
import { param } from '../../src/common/params.js';
import { useBackend } from '../../src/compute/backend.js';
import { images, linearModel } from '../attacks/fixtures.js';

// The attack writes only its step: the loop normalises, projects into the eps-ball and [0, 1].
const fgm = defineAttack({
  name: 'fgm',
  kind: 'single-step',
  description: 'fast gradient method: one L2 step of eps along the normalised gradient (Goodfellow et al. 1412.6572)',
  usesLabels: true,
  // A parameter is declared here and nowhere else: its range, meaning and default; params.stepShare is then a number.
  parameters: [
    param({
      name: 'stepShare',
      range: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
      description: 'FGM: the step as a share of eps',
      default: 1,
    }),
  ],
  transformable: true,
  craft: (batch, params, transforms) =>
    gradientLoop(
      batch,
      { ...params, norm: 'l2', steps: 1, stepSize: params.stepShare * params.eps, randomStart: false, decay: 0 },
      { transforms },
    ),
});

describe('extending: a transfer attack (FGM, L2)', () => {
  const shape: [number, number, number] = [4, 4, 1];
  before(async () => {
    await useBackend('wasm');
    ATTACKS.add('fgm', fgm);
  });
  after(() => ATTACKS.remove('fgm'));

  it('moves each image by eps in L2 along its normalised loss gradient', async () => {
    const linear = linearModel(shape, 3);
    const x = images(4, shape, 5, 0.3, 0.7);
    const labels = Int32Array.of(0, 1, 2, 0);
    const adversarial = await craftAdversarial('fgm', linear.surrogate, {
      images: x.dataSync() as Float32Array,
      trueLabels: labels,
      ids: [0, 1, 2, 3],
      eps: 0.5,
      labelSource: 'true',
    });
    // The analytic gradient of the cross-entropy of a linear softmax model: (p - onehot) W^T.
    const expected = tf.tidy(() => {
      const g = tf
        .softmax(linear.model(x))
        .sub(tf.oneHot(tf.tensor1d(labels, 'int32'), 3))
        .matMul(linear.weights, false, true);
      return x
        .reshape([4, 16])
        .add(g.div(g.norm('euclidean', 1, true)).mul(0.5))
        .dataSync();
    });
    adversarial.forEach((v, i) => assert.ok(Math.abs(v - (expected[i] as number)) < 1e-5, `pixel ${i}: ${v}`));
    x.dispose();
    linear.dispose();
  });

  it('is listed, and takes the parameters every attack takes', () => {
    assert.ok(ATTACKS.names().includes('fgm'));
    assert.equal(resolveParams(ATTACKS.get('fgm'), 0.5).eps, 0.5);
    assert.throws(
      () => resolveParams(ATTACKS.get('fgm'), 0.5, { steps: 3 }),
      /^TransferbenchError: fgm: parameter "steps": got 3, expected one of the parameters it takes: stepShare$/,
    );
    assert.equal(resolveParams(ATTACKS.get('fgm'), 0.5).stepShare, 1);
    assert.throws(
      () => resolveParams(ATTACKS.get('fgm'), 0.5, { stepShare: 2 }),
      /^TransferbenchError: fgm: stepShare: got 2, expected a number > 0 and <= 1$/,
    );
  });
});
