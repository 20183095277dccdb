import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { generateAdversarial } from '../../../src/attacks/advgan/generator.js';
import { buildGenerator, generatorNetwork } from '../../../src/attacks/advgan/networks.js';
import { generate } from '../../../src/attacks/advgan/steps.js';
import { trainGenerator, type AdvGanOptions } from '../../../src/attacks/advgan/train.js';
import { drive, driveSync } from '../../../src/attacks/index.js';
import { buildArchitecture } from '../../../src/compute/architectures.js';
import { useBackend } from '../../../src/compute/backend.js';
import type { EngineInfo } from '../../../src/compute/engine.js';
import { convertTfjs } from '../../../src/compute/network/from-tfjs.js';
import type { ImageNetwork } from '../../../src/compute/network/image-network.js';
import { initializerValues } from '../../../src/compute/network/network.js';
import { writeVariables } from '../../../src/compute/onnx-train/graph.js';
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

  const weightsOf = (network: ImageNetwork) =>
    network.trainable.map((name) => initializerValues(network.graph, name).values);
  const trained = async (engine: EngineInfo, synchronous = false) => {
    const crafting = trainGenerator(digits.images, digits.labels, SHAPE, options, engine);
    return synchronous ? driveSync(surrogate, crafting) : await drive(surrogate, crafting);
  };
  const trainedWeights = async (engine: EngineInfo, synchronous = false) =>
    weightsOf(await trained(engine, synchronous));
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
      const initial = weightsOf(generatorNetwork(SHAPE, options.seed));
      assert.ok(
        initial.some((w, i) => maxDifference(w, first[i] as Float32Array) > 0),
        'the generator trained',
      );
    },
  );

  it(
    'its numbers are those of the tfjs generator it replaced: the same seeded initial weights, trained weights ' +
      'summing to what that path gave, and the same images from the tfjs model holding them (<= 2e-5)',
    async () => {
      const tfjsGenerator = buildGenerator(SHAPE, options.seed);
      try {
        const initial = generatorNetwork(SHAPE, options.seed);
        assert.deepEqual(
          weightsOf(initial).map((w) => Buffer.from(w.buffer)),
          tfjsGenerator.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).buffer)),
        );
        const network = await trained(onnxruntime);
        // The tiny run's weights as the tfjs generator held them before generators became ONNX networks
        // (bit-identical when this test was written; a tolerance for another machine's rounding).
        const sum = weightsOf(network).reduce((total, w) => w.reduce((a, b) => a + b, total), 0);
        assert.ok(Math.abs(sum - 349.42687262227093) < 1e-3, `trained weights sum to ${sum}`);
        const { variables } = convertTfjs(tfjsGenerator);
        writeVariables(
          variables,
          new Map(network.trainable.map((name) => [name, initializerValues(network.graph, name).values] as const)),
        );
        const n = 16;
        const images = digits.images.slice(0, n * 784);
        const ours = await generateAdversarial(network, images, n, options.eps);
        const reference = tf.tidy(() => generate(tfjsGenerator, tf.tensor4d(images, [n, ...SHAPE]), options.eps));
        const worst = maxDifference(ours, reference.dataSync());
        reference.dispose();
        assert.ok(worst <= 2e-5, `max |difference| ${worst} from the tfjs generator's images`);
      } finally {
        tfjsGenerator.dispose();
      }
    },
  );

  it('driven synchronously (inside a tfjs loop) it is refused with a line naming the asynchronous call', async () => {
    await assert.rejects(
      trainedWeights(onnxruntime, true),
      /AdvGAN runs its networks on onnxruntime, which a synchronous crafting loop cannot await/,
    );
  });
});
