import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { glorotUniform, kerasFans, kerasRandomUniform } from '../../../src/compute/network/keras-init.js';

const SHAPES: readonly (readonly number[])[] = [
  [784, 10],
  [3, 3, 1, 32],
  [5, 5, 64, 64],
  [8, 8, 1, 64],
  [6, 6, 64, 128],
  [784, 1200],
  [7],
  [2, 3, 4],
  [2, 2, 3, 4, 5],
  [3, 2, 2, 2, 2, 2],
];
const SEEDS = [0, 1, 2, 17, 12345, 1 << 20, 2147483647, 987654321];

/** Bit-for-bit: a float32 that differs in its last place is a different initial weight. */
function assertSameValues(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const index = actual.findIndex((v, i) => !Object.is(v, expected[i]));
  assert.equal(index, -1, `${what}: element ${index} is ${actual[index]}, tfjs drew ${expected[index]}`);
}

describe('keras-init: tfjs-layers initialisers without tfjs', () => {
  it('glorotUniform draws what tf.initializers.glorotUniform draws, for every shape and seed', () => {
    const before = tf.memory().numTensors;
    for (const shape of SHAPES)
      for (const seed of SEEDS) {
        const expected = tf.tidy(() =>
          tf.initializers
            .glorotUniform({ seed })
            .apply([...shape], 'float32')
            .dataSync(),
        ) as Float32Array;
        assertSameValues(glorotUniform(shape, seed), expected, `[${shape}] seed ${seed}`);
      }
    assert.equal(tf.memory().numTensors, before);
  });

  it("randomUniform keeps tfjs's reading of a zero bound as its default (the RBF centres' [-0.05, 1))", () => {
    for (const bounds of [
      { minval: 0, maxval: 1 },
      { minval: -0.3, maxval: 0.7 },
      { minval: 0.2, maxval: 0 },
    ])
      for (const seed of SEEDS) {
        const expected = tf.tidy(() =>
          tf.initializers
            .randomUniform({ ...bounds, seed })
            .apply([784, 10], 'float32')
            .dataSync(),
        ) as Float32Array;
        assertSameValues(kerasRandomUniform([784, 10], bounds, seed), expected, `${JSON.stringify(bounds)} ${seed}`);
      }
    const centres = kerasRandomUniform([1000], { minval: 0, maxval: 1 }, 3);
    assert.ok(centres.some((v) => v < 0));
  });

  it("computes a convolution kernel's fans from tfjs's HWIO layout", () => {
    assert.deepEqual(kerasFans([5, 5, 64, 128]), { in: 1600, out: 3200 });
    assert.deepEqual(kerasFans([784, 10]), { in: 784, out: 10 });
    assert.deepEqual(kerasFans([16]), { in: 4, out: 4 });
  });
});
