import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { accumulate, update } from '../../src/attacks/gradient-loop.js';
import { normalize, project } from '../../src/attacks/norms.js';
import { useBackend } from '../../src/compute/backend.js';
import { fixedValues } from '../helpers/backend.js';

/** The loop's typed-array step against the tfjs ops it replaced (norms.ts's normalize and project). */
describe('gradient loop step', () => {
  const shape: [number, number, number, number] = [5, 6, 6, 2];
  const size = 5 * 72;
  const original = Float32Array.from(fixedValues(size, 3), (v) => (v + 1) / 2);
  const x = Float32Array.from(original, (v, i) => Math.min(1, Math.max(0, v + 0.04 * Math.sin(i))));
  // Zeros included. Components below 2^-23 are left out: tfjs's wasm sign maps them to 0, the
  // loop (torch.sign) to +-1, which papers.test.ts pins.
  const g = Float32Array.from(fixedValues(size, 4), (v, i) =>
    i % 11 === 0 ? 0 : i % 13 === 0 ? Math.sign(v) * 1e-3 : v,
  );

  before(async () => {
    await useBackend('wasm');
  });

  const reference = (norm: 'linf' | 'l2', eps: number, step: number, sign: 1 | -1) =>
    tf.tidy(
      () =>
        project(
          tf.tensor4d(x, shape).add(normalize(tf.tensor4d(g, shape), norm).mul(sign * step)),
          tf.tensor4d(original, shape),
          eps,
          norm,
        ).dataSync() as Float32Array,
    );

  it('L-inf: bit-identical to tfjs, ascending and descending, with the eps clip binding', () => {
    for (const [eps, step, sign] of [
      [0.05, 1 / 255, 1],
      [0.03, 0.02, -1],
      [0.3, 0.1, 1],
    ] as const) {
      const params = { eps, norm: 'linf', stepSize: step } as const;
      assert.deepEqual(update(x, original, g, params, sign, shape), reference('linf', eps, step, sign), `eps ${eps}`);
    }
  });

  it('L2: equal to tfjs within float rounding, inside the ball', () => {
    const params = { eps: 0.5, norm: 'l2', stepSize: 0.4 } as const;
    const ours = update(x, original, g, params, 1, shape);
    const theirs = reference('l2', 0.5, 0.4, 1);
    ours.forEach((v, i) => assert.ok(Math.abs(v - (theirs[i] as number)) <= 1e-6, `value ${i}: ${v} vs ${theirs[i]}`));
  });

  it("MI-FGSM's momentum equals decay * m + g / mean|g| computed by tfjs, within float rounding", () => {
    const m = Float32Array.from(fixedValues(size, 9));
    const ours = accumulate(g, m, 0.9, shape);
    const theirs = tf.tidy(() => {
      const gt = tf.tensor4d(g, shape);
      return tf
        .tensor4d(m, shape)
        .mul(0.9)
        .add(gt.div(gt.abs().mean([1, 2, 3], true).add(1e-12)))
        .dataSync() as Float32Array;
    });
    ours.forEach((v, i) =>
      assert.ok(Math.abs(v - (theirs[i] as number)) <= 1e-5 * Math.max(1, Math.abs(theirs[i] as number)), `value ${i}`),
    );
    assert.equal(accumulate(g, m, 0, shape), g, 'no decay: the raw gradient');
  });
});
