import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/compute/backend.js';
import { fixedValues, maxRelativeError, valuesOn } from '../helpers/backend.js';

/** Every convolution geometry the zoo, the substitutes and AdvGAN use, and a few more. */
const CONVOLUTIONS: {
  name: string;
  input: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: 'valid' | 'same';
}[] = [
  {
    name: '3x3 valid stride 1 (cnn-small, model C)',
    input: [3, 12, 12, 2],
    filter: [3, 3, 2, 4],
    stride: 1,
    pad: 'valid',
  },
  { name: '3x3 same stride 1', input: [3, 9, 9, 3], filter: [3, 3, 3, 5], stride: 1, pad: 'same' },
  { name: '5x5 valid stride 1 (model A)', input: [2, 14, 14, 3], filter: [5, 5, 3, 4], stride: 1, pad: 'valid' },
  { name: '8x8 same stride 2 (model B)', input: [2, 16, 16, 1], filter: [8, 8, 1, 4], stride: 2, pad: 'same' },
  {
    name: '6x6 valid stride 2 (model B), odd leftover rows',
    input: [2, 15, 15, 3],
    filter: [6, 6, 3, 4],
    stride: 2,
    pad: 'valid',
  },
  { name: '3x3 same stride 2 (AdvGAN encoder)', input: [2, 10, 10, 3], filter: [3, 3, 3, 4], stride: 2, pad: 'same' },
  { name: '4x4 same stride 2, odd input', input: [2, 9, 9, 2], filter: [4, 4, 2, 3], stride: 2, pad: 'same' },
  { name: '1x1 valid stride 1', input: [2, 5, 5, 4], filter: [1, 1, 4, 6], stride: 1, pad: 'valid' },
];

const TOLERANCE = 1e-4;

describe('composed wasm kernels', () => {
  before(async () => {
    await useBackend('wasm');
  });

  for (const c of CONVOLUTIONS) {
    it(`Conv2D gradients match cpu: ${c.name}`, async () => {
      const run = () => {
        const x = tf.tensor4d(
          fixedValues(
            c.input.reduce((a, b) => a * b),
            1,
          ),
          c.input,
        );
        const w = tf.tensor4d(
          fixedValues(
            c.filter.reduce((a, b) => a * b),
            2,
          ),
          c.filter,
        );
        const y = tf.conv2d(x, w, c.stride, c.pad);
        const dy = tf.tensor(fixedValues(y.size, 3), y.shape);
        return tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
          tf
            .conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.stride, c.pad)
            .mul(dy)
            .sum(),
        )([x, w]);
      };
      const [wasmDx, wasmDw] = await valuesOn('wasm', run);
      const [cpuDx, cpuDw] = await valuesOn('cpu', run);
      const inputError = maxRelativeError(wasmDx as Float32Array, cpuDx as Float32Array);
      const filterError = maxRelativeError(wasmDw as Float32Array, cpuDw as Float32Array);
      assert.ok(inputError <= TOLERANCE, `Conv2DBackpropInput relative error ${inputError}`);
      assert.ok(filterError <= TOLERANCE, `Conv2DBackpropFilter relative error ${filterError}`);
    });
  }

  it('conv2dTranspose (Conv2DBackpropInput forward) and its gradients match cpu (AdvGAN decoder)', async () => {
    const run = () => {
      const x = tf.tensor4d(fixedValues(2 * 5 * 5 * 4, 4), [2, 5, 5, 4]);
      const w = tf.tensor4d(fixedValues(3 * 3 * 3 * 4, 5), [3, 3, 3, 4]);
      const f = (xx: tf.Tensor, ww: tf.Tensor) =>
        tf.conv2dTranspose(xx as tf.Tensor4D, ww as tf.Tensor4D, [2, 10, 10, 3], 2, 'same');
      const y = f(x, w);
      const [dx, dw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => f(xx, ww).square().sum())([x, w]);
      return [y, dx as tf.Tensor, dw as tf.Tensor];
    };
    const wasm = await valuesOn('wasm', run);
    const cpu = await valuesOn('cpu', run);
    wasm.forEach((values, i) => {
      const error = maxRelativeError(values, cpu[i] as Float32Array);
      assert.ok(error <= TOLERANCE, `output ${i}: relative error ${error}`);
    });
  });

  for (const [transposeA, transposeB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(
      `BatchMatMul matches cpu with transposeA=${transposeA} transposeB=${transposeB}, ` + `batched and broadcast`,
      async () => {
        const run = () => {
          const a = tf.tensor3d(fixedValues(2 * 7 * 5, 6), transposeA ? [2, 5, 7] : [2, 7, 5]);
          const b = tf.tensor3d(fixedValues(1 * 5 * 3, 7), transposeB ? [1, 3, 5] : [1, 5, 3]);
          return tf.matMul(a, b, transposeA, transposeB);
        };
        const [wasm] = await valuesOn('wasm', run);
        const [cpu] = await valuesOn('cpu', run);
        assert.ok(maxRelativeError(wasm as Float32Array, cpu as Float32Array) <= TOLERANCE);
      },
    );
  }

  const POOLS: {
    name: string;
    input: [number, number, number, number];
    size: number;
    stride: number;
    pad: 'valid' | 'same';
  }[] = [
    {
      name: '2x2 stride 2 valid (zoo CNNs), ties from ReLU zeros',
      input: [3, 10, 10, 4],
      size: 2,
      stride: 2,
      pad: 'valid',
    },
    { name: '2x2 stride 2 valid, odd input', input: [2, 9, 7, 3], size: 2, stride: 2, pad: 'valid' },
    { name: '2x2 stride 2 same, odd input', input: [2, 9, 9, 3], size: 2, stride: 2, pad: 'same' },
    { name: '3x3 stride 1 same, overlapping windows', input: [2, 6, 6, 2], size: 3, stride: 1, pad: 'same' },
    { name: '3x3 stride 2 valid, overlapping windows', input: [2, 9, 9, 2], size: 3, stride: 2, pad: 'valid' },
  ];
  for (const p of POOLS) {
    it(`MaxPool gradient matches cpu: ${p.name}`, async () => {
      const run = () => {
        const x = tf.relu(
          tf.tensor4d(
            fixedValues(
              p.input.reduce((a, b) => a * b),
              11,
            ),
            p.input,
          ),
        );
        const y = tf.maxPool(x, p.size, p.stride, p.pad);
        const dy = tf.tensor(fixedValues(y.size, 12), y.shape);
        return tf.grad((xx: tf.Tensor) =>
          tf
            .maxPool(xx as tf.Tensor4D, p.size, p.stride, p.pad)
            .mul(dy)
            .sum(),
        )(x);
      };
      const [wasm] = await valuesOn('wasm', run);
      const [cpu] = await valuesOn('cpu', run);
      assert.ok(maxRelativeError(wasm as Float32Array, cpu as Float32Array) <= TOLERANCE);
    });
  }

  it('releases every intermediate tensor', () => {
    const x = tf.tensor4d(fixedValues(2 * 9 * 9 * 2, 8), [2, 9, 9, 2]);
    const w = tf.tensor4d(fixedValues(4 * 4 * 2 * 3, 9), [4, 4, 2, 3]);
    const before = tf.memory().numTensors;
    const beforeBytes = tf.memory().numBytes;
    tf.tidy(() => {
      tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same').sum())([
        x,
        w,
      ]);
      tf.matMul(x.reshape([18, 18]), x.reshape([18, 18]), true, true);
    });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(tf.memory().numBytes, beforeBytes);
    tf.dispose([x, w]);
  });
});
