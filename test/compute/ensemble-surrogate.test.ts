import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { EnsembleSurrogate } from '../../src/compute/ensemble-surrogate.js';
import { useBackend } from '../../src/compute/backend.js';
import { lossOfLogits, TfjsSurrogate } from '../../src/compute/tfjs-surrogate.js';
import type { LossRequest, Surrogate } from '../../src/compute/surrogate.js';
import { images, linearModel, tinyCnn } from '../attacks/fixtures.js';

describe('EnsembleSurrogate', () => {
  const shape: [number, number, number] = [8, 8, 1];
  let cnn: ReturnType<typeof tinyCnn>;
  let linear: ReturnType<typeof linearModel>;
  let x: Float32Array;
  const labels = Int32Array.from([0, 1, 2, 1]);

  before(async () => {
    await useBackend('wasm');
    cnn = tinyCnn(5);
    linear = linearModel(shape, 3, 8);
    x = tf.tidy(() => images(4, shape, 13).dataSync() as Float32Array);
  });
  after(() => {
    cnn.dispose();
    linear.dispose();
  });

  for (const request of [
    { loss: 'cross-entropy' },
    { loss: 'cw-untargeted', kappa: 50 },
    { loss: 'cw-targeted', kappa: 50 },
  ] as LossRequest[]) {
    it(`differentiates ${request.loss} of the mean logits exactly as tfjs does on the averaged model`, async () => {
      const ensemble = EnsembleSurrogate.of('pair', [cnn.surrogate, linear.surrogate]);
      const averaged = new TfjsSurrogate(
        'averaged',
        (t) => tf.tidy(() => cnn.model(t).add(linear.model(t)).div(2) as tf.Tensor2D),
        shape,
        3,
      );
      const ours = await ensemble.lossGradient(x, labels, request);
      const reference = averaged.lossGradientSync(x, labels, request);
      const close = (a: Float32Array, b: Float32Array) =>
        a.every((v, i) => Math.abs(v - (b[i] as number)) <= 1e-5 * Math.max(1, Math.abs(b[i] as number)));
      assert.ok(close(ours.logits, reference.logits), 'logits');
      assert.ok(close(ours.loss, reference.loss), `loss ${ours.loss} vs ${reference.loss}`);
      assert.ok(close(ours.gradient, reference.gradient), 'gradient');
      assert.ok(
        ours.gradient.some((v) => v !== 0),
        'a gradient at all',
      );
    });
  }

  it(
    "combined by loss, gives the mean of the members' losses and " + 'gradients, from members without logitsGradient',
    async () => {
      const opaque = (s: TfjsSurrogate): Surrogate => ({
        name: s.name,
        imageShape: s.imageShape,
        classes: s.classes,
        logits: s.logits.bind(s),
        lossGradient: s.lossGradient.bind(s),
        dispose: async () => undefined,
      });
      const ensemble = EnsembleSurrogate.of('by-loss', [opaque(cnn.surrogate), opaque(linear.surrogate)], 'loss');
      const ours = await ensemble.lossGradient(x, labels, { loss: 'cross-entropy' });
      const a = cnn.surrogate.lossGradientSync(x, labels, { loss: 'cross-entropy' });
      const b = linear.surrogate.lossGradientSync(x, labels, { loss: 'cross-entropy' });
      ours.gradient.forEach((v, i) =>
        assert.ok(Math.abs(v - ((a.gradient[i] as number) + (b.gradient[i] as number)) / 2) <= 1e-6),
      );
      ours.loss.forEach((v, i) => assert.ok(Math.abs(v - ((a.loss[i] as number) + (b.loss[i] as number)) / 2) <= 1e-5));
    },
  );

  it('per-image losses agree with the tfjs definitions on the mean logits', () => {
    const z = tf.tensor2d([
      [1, 2, 0.5],
      [3, -1, 2],
    ]);
    const y = tf.tensor1d([0, 2], 'int32');
    const values = tf.tidy(() => lossOfLogits(z, y, { loss: 'cw-untargeted', kappa: 2 }).dataSync());
    // Margins z_y - max other: 1 - 2 and 2 - 3; the clamp at -kappa = -2 does not bind.
    assert.deepEqual(Array.from(values), [-1, -1]);
    tf.dispose([z, y]);
  });

  it('refuses members of different shapes, and members that cannot backpropagate their logits, naming them', () => {
    const other = linearModel([4, 4, 1], 3, 2);
    assert.throws(
      () => EnsembleSurrogate.of('bad', [cnn.surrogate, other.surrogate]),
      /bad: member linear takes 4x4x1 images into 3 classes, tiny-cnn 8x8x1 into 3; ensemble members must agree/,
    );
    const opaque: Surrogate = {
      name: 'opaque',
      imageShape: shape,
      classes: 3,
      logits: cnn.surrogate.logits.bind(cnn.surrogate),
      lossGradient: cnn.surrogate.lossGradient.bind(cnn.surrogate),
      dispose: async () => undefined,
    };
    assert.throws(
      () => EnsembleSurrogate.of('mixed', [cnn.surrogate, opaque]),
      new RegExp(
        'mixed: member\\(s\\) opaque cannot backpropagate a gradient of their ' +
          'logits \\(logitsGradient\\), which a logits ensemble needs; combine ' +
          'by "loss" instead',
      ),
    );
    other.dispose();
  });
});
