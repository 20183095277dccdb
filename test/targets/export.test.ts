import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ARCHITECTURES, buildArchitecture } from '../../src/compute/architectures.js';
import { useBackend } from '../../src/compute/backend.js';
import { Maxout, Rbf } from '../../src/compute/layers/index.js';
import { exportToOnnx } from '../../src/targets/onnx/export.js';
import { checkParity } from '../../src/targets/onnx/parity.js';

/** One tiny model per layer type (and padding/stride variant) the exporter supports. */
const TINY: { name: string; shape: [number, number, number]; layers: () => tf.layers.Layer[] }[] = [
  {
    name: 'Dense + ReLU',
    shape: [4, 4, 1],
    layers: () => [
      tf.layers.flatten(),
      tf.layers.dense({ units: 6, activation: 'relu' }),
      tf.layers.dense({ units: 3 }),
    ],
  },
  {
    name: 'Conv2D valid, stride 1',
    shape: [7, 7, 2],
    layers: () => [
      tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  },
  {
    name: 'Conv2D same, stride 2 (even input)',
    shape: [8, 8, 1],
    layers: () => [
      tf.layers.conv2d({ filters: 3, kernelSize: 4, strides: 2, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  },
  {
    name: 'Conv2D same, stride 2 (odd input)',
    shape: [9, 9, 2],
    layers: () => [
      tf.layers.conv2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  },
  {
    name: 'Conv2D valid, stride 2 (leftover rows)',
    shape: [9, 9, 1],
    layers: () => [
      tf.layers.conv2d({ filters: 2, kernelSize: 4, strides: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  },
  {
    name: 'MaxPooling2D',
    shape: [6, 6, 2],
    layers: () => [tf.layers.maxPooling2d({ poolSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 3 })],
  },
  {
    name: 'MaxPooling2D same (odd input)',
    shape: [7, 7, 1],
    layers: () => [
      tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  },
  {
    name: 'AveragePooling2D',
    shape: [6, 6, 2],
    layers: () => [tf.layers.averagePooling2d({ poolSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 3 })],
  },
  {
    name: 'Dropout (identity at inference)',
    shape: [4, 4, 1],
    layers: () => [tf.layers.flatten(), tf.layers.dropout({ rate: 0.5 }), tf.layers.dense({ units: 3 })],
  },
  {
    name: 'Maxout',
    shape: [4, 4, 1],
    layers: () => [tf.layers.flatten(), new Maxout({ units: 5, pieces: 3, seed: 1 }), tf.layers.dense({ units: 3 })],
  },
  { name: 'RBF', shape: [4, 4, 1], layers: () => [tf.layers.flatten(), new Rbf({ units: 4, seed: 2 })] },
  {
    name: 'RBF without bias',
    shape: [4, 4, 1],
    layers: () => [tf.layers.flatten(), new Rbf({ units: 4, useBias: false, seed: 2 })],
  },
  {
    name: 'BatchNormalization after Conv2D and Dense (running statistics)',
    shape: [6, 6, 2],
    layers: () => {
      const moving = (n: number, offset: number) =>
        tf.initializers.randomUniform({ minval: offset, maxval: offset + 1, seed: n });
      const bn = (n: number) =>
        tf.layers.batchNormalization({
          movingMeanInitializer: moving(n, -0.5),
          movingVarianceInitializer: moving(n + 1, 0.5),
          gammaInitializer: moving(n + 2, 0.5),
          betaInitializer: moving(n + 3, -0.5),
        });
      return [
        tf.layers.conv2d({ filters: 3, kernelSize: 3 }),
        bn(1),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4 }),
        bn(5),
      ];
    },
  },
  {
    name: 'Softmax activation',
    shape: [4, 4, 1],
    layers: () => [tf.layers.flatten(), tf.layers.dense({ units: 3, activation: 'softmax' })],
  },
];

describe('ONNX export', () => {
  before(async () => {
    await useBackend('wasm');
  });

  for (const t of TINY) {
    it(`exports ${t.name} and matches tfjs within 1e-4 in onnxruntime`, async () => {
      const model = tf.sequential();
      model.add(tf.layers.inputLayer({ inputShape: t.shape }));
      for (const layer of t.layers()) model.add(layer);
      const report = await checkParity(model, exportToOnnx(model), t.shape, { count: 32 });
      model.dispose();
      assert.ok(report.maxAbsoluteDifference <= 1e-4);
    });
  }

  for (const name of ARCHITECTURES.names()) {
    it(`exports the zoo architecture ${name} with parity`, async () => {
      const model = buildArchitecture(name, { imageShape: [28, 28, 1], classes: 10, seed: 1 });
      const report = await checkParity(model, exportToOnnx(model), [28, 28, 1], { count: 16 });
      model.dispose();
      assert.ok(report.maxAbsoluteDifference <= 1e-4);
    });
  }

  it('refuses to pass parity when the ONNX model differs from tfjs', async () => {
    const a = buildArchitecture('softmax', { imageShape: [28, 28, 1], classes: 10, seed: 1 });
    const b = buildArchitecture('softmax', { imageShape: [28, 28, 1], classes: 10, seed: 2 });
    await assert.rejects(
      checkParity(a, exportToOnnx(b), [28, 28, 1], { count: 8, name: 'mismatch' }),
      new RegExp(
        'ONNX parity \\(mismatch\\): an output differs from tfjs by .* ' +
          '\\(relative to max\\(1, \\|value\\|\\)\\) > 0.0001; the model was not ' +
          'written',
      ),
    );
    a.dispose();
    b.dispose();
  });

  it('names an unsupported layer and lists the supported ones', () => {
    const model = tf.sequential();
    model.add(tf.layers.inputLayer({ inputShape: [4, 4, 1] }));
    model.add(tf.layers.upSampling2d({}));
    assert.throws(
      () => exportToOnnx(model),
      /layer .* \(UpSampling2D\) is not supported; supported: Conv2D, Conv2DTranspose, MaxPooling2D/,
    );
    model.dispose();
  });
});
