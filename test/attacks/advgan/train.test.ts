import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildGenerator } from '../../../src/attacks/advgan/networks.js';
import { trainGenerator, type AdvGanOptions } from '../../../src/attacks/advgan/train.js';
import { drive, driveSync } from '../../../src/attacks/index.js';
import { buildArchitecture } from '../../../src/compute/architectures.js';
import { useBackend } from '../../../src/compute/backend.js';
import type { EngineInfo } from '../../../src/compute/engine.js';
import { TfjsSurrogate } from '../../../src/compute/tfjs-surrogate.js';
import { loadEmbeddedMnist, take } from '../../../src/data/index.js';
import { maxDifference, OPTIONS, SHAPE } from './fixtures.js';

describe('AdvGAN training loop on onnxruntime', () => {
  const digits = take(loadEmbeddedMnist(), 128);
  const options: AdvGanOptions = { ...OPTIONS, batchSize: 64 };
  let net: tf.LayersModel;
  let surrogate: TfjsSurrogate;

  before(async () => {
    await useBackend('wasm');
    net = buildArchitecture('mlp', { imageShape: SHAPE, classes: 10, seed: 3 });
    surrogate = TfjsSurrogate.fromLayersModel('mlp', net);
  });
  after(() => net.dispose());

  const trainedWeights = async (engine: EngineInfo, synchronous = false) => {
    const crafting = trainGenerator(digits.images, digits.labels, SHAPE, options, engine);
    const generator = synchronous ? driveSync(surrogate, crafting) : await drive(surrogate, crafting);
    const values = generator.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    generator.dispose();
    return values;
  };
  const onnxruntime: EngineInfo = { name: 'onnxruntime', threads: 1, optimizer: 'typed-arrays' };

  it(
    'on onnxruntime: a seeded run is bit-for-bit repeatable and trains ' +
      'the generator away from its initial weights',
    async () => {
      const before = tf.memory().numTensors;
      const first = await trainedWeights(onnxruntime);
      const again = await trainedWeights(onnxruntime);
      assert.equal(tf.memory().numTensors, before, 'no tensor remains');
      first.forEach((w, i) =>
        assert.deepEqual(
          Buffer.from(w.buffer),
          Buffer.from((again[i] as Float32Array).buffer),
          `weight ${i} differs between two runs`,
        ),
      );
      const initial = buildGenerator(SHAPE, options.seed);
      const moved = initial.getWeights().some((w, i) => maxDifference(w.dataSync(), first[i] as Float32Array) > 0);
      initial.dispose();
      assert.ok(moved, 'the generator trained');
    },
  );

  it('driven synchronously (inside a tfjs loop) it is refused with a line naming the asynchronous call', async () => {
    await assert.rejects(
      trainedWeights(onnxruntime, true),
      /AdvGAN trains its networks on onnxruntime, which a synchronous crafting loop cannot await/,
    );
  });
});
