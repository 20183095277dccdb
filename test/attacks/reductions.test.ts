import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { attackFor, craftAdversarial, driveSync, resolveParams, TRANSFORMS } from '../../src/attacks/index.js';
import { transformedGradient } from '../../src/attacks/transforms/apply.js';
import { spreadToNeighbours } from '../../src/attacks/pi-fgsm.js';
import { gaussianKernel } from '../../src/attacks/transforms/ti.js';
import { useBackend } from '../../src/compute/backend.js';
import { images, tinyCnn } from './fixtures.js';

/**
 * Reductions with known answers: a transformation that is switched off, or a method with its
 * extra ingredient removed, gives exactly its base; and the backward pass through each input
 * transformation is the adjoint of its forward pass.
 */
describe('attack reductions', () => {
  const eps = 0.1;
  const shape: [number, number, number] = [8, 8, 1];
  let fixture: ReturnType<typeof tinyCnn>;
  let x: Float32Array;
  const labels = Int32Array.from([0, 1, 2, 0, 1, 2]);
  const ids = [3, 4, 5, 6, 7, 8];
  let pool: { images: Float32Array; labels: Int32Array };

  before(async () => {
    await useBackend('wasm');
    fixture = tinyCnn(7);
    x = tf.tidy(() => images(6, shape, 5).dataSync() as Float32Array);
    pool = {
      images: tf.tidy(() => images(12, shape, 9).dataSync() as Float32Array),
      labels: Int32Array.from({ length: 12 }, (_, i) => i % 3),
    };
  });
  after(() => fixture.dispose());

  const craft = (attack: string, transforms: string[], params: Record<string, unknown> = {}) =>
    craftAdversarial(attack, fixture.surrogate, {
      images: x,
      trueLabels: labels,
      ids,
      eps,
      labelSource: 'true',
      transforms,
      params: { seed: 2, ...params },
      pool,
    });

  const maxDifference = (a: Float32Array, b: Float32Array) =>
    a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);

  for (const [what, transforms, params] of [
    ['DI with p = 0', ['di'], { diversityProb: 0 }],
    ['TI with a 1x1 kernel', ['ti'], { kernelSize: 1 }],
    ['SI with one copy', ['si'], { scaleCopies: 1 }],
    [
      'Admix with no mixing (one copy, one scale, eta 0)',
      ['admix'],
      { admixCopies: 1, scaleCopies: 1, admixStrength: 0 },
    ],
  ] as const) {
    it(`${what} equals MI-FGSM`, async () => {
      assert.deepEqual(await craft('mi-fgsm', [...transforms], params), await craft('mi-fgsm', []));
    });
  }

  it('Admix with eta 0 and two copies (through the backward pass) equals MI-FGSM up to float rounding', async () => {
    assert.ok(
      maxDifference(
        await craft('mi-fgsm', ['admix'], { admixCopies: 2, scaleCopies: 1, admixStrength: 0 }),
        await craft('mi-fgsm', []),
      ) <= 1e-6,
    );
  });

  it(
    'DI with p = 1 changes the images (the reduction above is not ' +
      'vacuous; 8-pixel images need a rate of 1.5 to pad at all)',
    async () => {
      assert.ok(
        maxDifference(
          await craft('mi-fgsm', ['di'], { diversityProb: 1, resizeRate: 1.5 }),
          await craft('mi-fgsm', []),
        ) > 0,
      );
    },
  );

  it('VMI-FGSM with no neighbours equals MI-FGSM, and with neighbours differs', async () => {
    assert.deepEqual(await craft('vmi-fgsm', [], { neighbours: 0 }), await craft('mi-fgsm', []));
    assert.ok(maxDifference(await craft('vmi-fgsm', [], { neighbours: 2 }), await craft('mi-fgsm', [])) > 0);
  });

  it('VNI-FGSM with no neighbours equals NI-FGSM', async () => {
    assert.deepEqual(await craft('vni-fgsm', [], { neighbours: 0 }), await craft('ni-fgsm', []));
  });

  it('NI-FGSM with decay 0 equals I-FGSM, and with decay 1 differs from MI-FGSM', async () => {
    assert.deepEqual(await craft('ni-fgsm', [], { decay: 0 }), await craft('i-fgsm', []));
    assert.ok(maxDifference(await craft('ni-fgsm', []), await craft('mi-fgsm', [])) > 0);
  });

  it(
    'PI-FGSM without amplification or projection (beta 1, gamma 0) ' + 'equals I-FGSM, and with its defaults differs',
    async () => {
      assert.deepEqual(
        await craft('pi-fgsm', [], { amplification: 1, projectionFactor: 0 }),
        await craft('i-fgsm', []),
      );
      assert.ok(maxDifference(await craft('pi-fgsm', []), await craft('i-fgsm', [])) > 0);
    },
  );

  it(
    "PI-FGSM's projection kernel: each pixel gets the mean of its " +
      'neighbours, itself excluded, zero beyond the border',
    () => {
      // 3x3 image, one channel: a single 8 in the centre spreads 1 to each of its 8 neighbours.
      const spread = spreadToNeighbours(Float32Array.from([0, 0, 0, 0, 8, 0, 0, 0, 0]), [1, 3, 3, 1], 3);
      assert.deepEqual(Array.from(spread), [1, 1, 1, 1, 0, 1, 1, 1, 1]);
      // A corner sees three neighbours inside the image: (1 + 2 + 4) / 8.
      assert.equal(spreadToNeighbours(Float32Array.from([0, 1, 0, 2, 4, 0, 0, 0, 0]), [1, 3, 3, 1], 3)[0], 7 / 8);
      assert.deepEqual(Array.from(spreadToNeighbours(Float32Array.from([5, 6]), [1, 1, 2, 1], 1)), [0, 0]);
    },
  );

  for (const name of TRANSFORMS.names().filter((t) => TRANSFORMS.get(t).bind({}).plan !== undefined)) {
    it(
      `${name}: the backward pass is the adjoint of the forward pass ` + `(<T x, dy> = <x, T^T dy> up to T's constant)`,
      () => {
        const params = resolveParams(attackFor('mi-fgsm', [name]), eps, {
          seed: 4,
          ...(name === 'di' ? { diversityProb: 1, resizeRate: 1.5 } : {}),
        });
        const plan = TRANSFORMS.get(name)
          .bind(params)
          .plan?.({
            imageShape: shape,
            keys: ids.map(String),
            labels,
            evaluation: 0,
            pool,
          });
        assert.ok(plan !== undefined && !plan.identity);
        const [lhs, rhs] = tf.tidy(() => {
          const input = tf.tensor4d(x, [6, ...shape]);
          const zero = tf.zerosLike(input);
          const dy = tf.randomUniform([6 * plan.copies, ...shape], -1, 1, 'float32', 11) as tf.Tensor4D;
          // T is affine (Admix adds constants): its linear part is T(x) - T(0).
          const linear = plan.forward(input).sub(plan.forward(zero));
          const back = tf.grad((t: tf.Tensor) => plan.forward(t as tf.Tensor4D))(input, dy);
          return [linear.mul(dy).sum().dataSync()[0] as number, input.mul(back).sum().dataSync()[0] as number];
        });
        assert.ok(Math.abs(lhs - rhs) <= 1e-3 * Math.max(1, Math.abs(lhs)), `${lhs} vs ${rhs}`);
      },
    );
  }

  it("SI's gradient is the mean of the copies' gradients, each scaled by its 1/2^i (chain rule)", () => {
    const params = resolveParams(attackFor('mi-fgsm', ['si']), eps, { scaleCopies: 3 });
    const setting = {
      labels,
      ids,
      imageShape: shape,
      transforms: [TRANSFORMS.get('si').bind(params)],
      pool,
      loss: { loss: 'cross-entropy' as const },
    };
    const through = driveSync(fixture.surrogate, transformedGradient(x, setting, 0));
    const expected = new Float32Array(x.length);
    for (let i = 0; i < 3; i++) {
      const g = fixture.surrogate.lossGradientSync(
        x.map((v) => v / 2 ** i),
        labels,
        { loss: 'cross-entropy' },
      ).gradient;
      g.forEach((v, j) => (expected[j] = (expected[j] as number) + v / 2 ** i / 3));
    }
    assert.ok(maxDifference(through, expected) <= 1e-5, `max difference ${maxDifference(through, expected)}`);
  });

  it('TI smooths with a normalised Gaussian kernel: a one-pixel gradient becomes the kernel', () => {
    const kernel = gaussianKernel(5);
    assert.ok(Math.abs(kernel.reduce((s, v) => s + v, 0) - 1) < 1e-6);
    const smoothed = tf.tidy(() => {
      const spike = tf.buffer([1, 9, 9, 1]);
      spike.set(1, 0, 4, 4, 0);
      const params = resolveParams(attackFor('mi-fgsm', ['ti']), eps);
      return TRANSFORMS.get('ti')
        .bind(params)
        .smooth?.(spike.toTensor() as tf.Tensor4D)
        ?.dataSync() as Float32Array;
    });
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 5; j++)
        assert.ok(Math.abs((smoothed[(2 + i) * 9 + 2 + j] as number) - (kernel[i * 5 + j] as number)) < 1e-6);
  });
});
