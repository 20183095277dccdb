import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/compute/backend.js';
import type { LossRequest } from '../../src/compute/surrogate.js';
import { TfjsSurrogate, type LogitsFunction } from '../../src/compute/tfjs-surrogate.js';
import { images, tinyCnn } from '../attacks/fixtures.js';

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('TfjsSurrogate', () => {
  const shape: [number, number, number] = [8, 8, 1];
  const count = 10;
  let cnn: ReturnType<typeof tinyCnn>;
  let x: Float32Array;
  const labels = Int32Array.from({ length: count }, (_, i) => i % 3);
  /** Batch sizes the model was called with. */
  let seen: number[];
  let counting: LogitsFunction;

  before(async () => {
    await useBackend('wasm');
    cnn = tinyCnn(7);
    x = tf.tidy(() => images(count, shape, 21).dataSync() as Float32Array);
    counting = (t) => {
      seen.push(t.shape[0]);
      return cnn.model(t);
    };
  });
  beforeEach(() => (seen = []));
  after(() => cnn.dispose());

  it(
    'calls its model on at most batchSize images at a time (the wasm heap ' + "keeps the largest call's activations)",
    () => {
      const split = new TfjsSurrogate('split', counting, shape, 3, undefined, 4);
      const before = tf.memory().numTensors;
      split.logitsSync(x, count);
      split.lossGradientSync(x, labels, { loss: 'cross-entropy' });
      split.logitsGradientSync(x, new Float32Array(count * 3).fill(1));
      assert.deepEqual(seen, [4, 4, 2, 4, 4, 2, 4, 4, 2]);
      assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
    },
  );

  for (const request of [{ loss: 'cross-entropy' }, { loss: 'cw-targeted', kappa: 0.5 }] as LossRequest[]) {
    it(`answers ${request.loss} bit for bit as one call over the whole batch does`, () => {
      const whole = new TfjsSurrogate('whole', counting, shape, 3, undefined, count);
      const split = new TfjsSurrogate('split', counting, shape, 3, undefined, 3);
      const a = whole.lossGradientSync(x, labels, request);
      const b = split.lossGradientSync(x, labels, request);
      assert.ok(bytes(b.logits).equals(bytes(a.logits)), 'logits');
      assert.ok(bytes(b.loss).equals(bytes(a.loss)), 'loss');
      assert.ok(bytes(b.gradient).equals(bytes(a.gradient)), 'gradient');
      assert.ok(
        a.gradient.some((v) => v !== 0),
        'a gradient at all',
      );
      assert.ok(bytes(split.logitsSync(x, count)).equals(bytes(whole.logitsSync(x, count))), 'logitsSync');
      assert.ok(
        bytes(split.logitsGradientSync(x, a.logits)).equals(bytes(whole.logitsGradientSync(x, a.logits))),
        'logitsGradientSync',
      );
    });
  }

  it('refuses a batch size that is not a positive integer, and images that do not match the count, naming them', () => {
    assert.throws(() => new TfjsSurrogate('bad', counting, shape, 3, undefined, 0), /batchSize.*0.*integer >= 1/);
    const split = new TfjsSurrogate('split', counting, shape, 3, undefined, 3);
    assert.throws(
      () => split.lossGradientSync(x.subarray(1), labels, { loss: 'cross-entropy' }),
      /split: got 639 pixel values for 10 image\(s\) of shape 8x8x1 \(640 expected\)/,
    );
    assert.deepEqual(seen, [], 'nothing computed on a bad call');
  });
});
