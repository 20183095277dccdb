import assert from 'node:assert/strict';
import type * as tf from '@tensorflow/tfjs';
import { generateAdversarial } from '../../../src/attacks/advgan/generator.js';
import { advgan } from '../../../src/attacks/advgan/index.js';
import { GENERATOR, generatorNetwork } from '../../../src/attacks/advgan/networks.js';
import { craftAdversarial, craftAdversarialSync, type ModelCache } from '../../../src/attacks/index.js';
import { buildArchitecture } from '../../../src/compute/architectures.js';
import { useBackend } from '../../../src/compute/backend.js';
import type { ImageNetwork } from '../../../src/compute/network/image-network.js';
import { TfjsSurrogate } from '../../../src/compute/tfjs-surrogate.js';
import { loadEmbeddedMnist, take } from '../../../src/data/index.js';
import { SHAPE } from './fixtures.js';

/** A cache holding one generator for any key, recording what each load expected. */
function cacheHolding(network: ImageNetwork) {
  const expected: unknown[] = [];
  const cache: ModelCache = {
    load: async (_key, wanted) => {
      expected.push(wanted);
      return network;
    },
    save: async () => assert.fail('nothing is trained, so nothing is saved'),
  };
  return { cache, expected };
}

describe("AdvGAN's prepare step", () => {
  const digits = take(loadEmbeddedMnist(), 8);
  const request = {
    images: digits.images,
    trueLabels: digits.labels,
    ids: Array.from({ length: 8 }, (_, i) => i),
    eps: 0.3,
    labelSource: 'true' as const,
  };
  let net: tf.LayersModel;
  let surrogate: TfjsSurrogate;

  before(async () => {
    await useBackend('wasm');
    net = buildArchitecture('mlp', { imageShape: SHAPE, classes: 10, seed: 3 });
    surrogate = TfjsSurrogate.fromLayersModel('mlp', net);
  });
  after(() => net.dispose());

  const prepared = (network: ImageNetwork) => {
    const { cache, expected } = cacheHolding(network);
    const training = { images: digits.images, labels: digits.labels };
    const prepare = advgan.prepare as NonNullable<typeof advgan.prepare>;
    return { expected, prepared: prepare(surrogate, { training, imageShape: SHAPE, cache }, { eps: 0.3 }) };
  };

  it('loads a cached ONNX generator, naming what trained it, and crafts with it on onnxruntime', async () => {
    const network = generatorNetwork(SHAPE, 5);
    const { expected, prepared: preparing } = prepared(network);
    const generator = await preparing;
    try {
      assert.deepEqual(expected, [{ architecture: GENERATOR, engine: 'onnxruntime' }]);
      const crafted = await craftAdversarial('advgan', surrogate, { ...request, prepared: generator });
      assert.deepEqual(crafted, await generateAdversarial(network, digits.images, 8, 0.3));
    } finally {
      await generator.dispose();
    }
  });

  it('refuses to craft in a synchronous loop, with the line naming the asynchronous call', async () => {
    const generator = await prepared(generatorNetwork(SHAPE, 5)).prepared;
    try {
      assert.throws(() => craftAdversarialSync('advgan', surrogate, { ...request, prepared: generator }), {
        message:
          'AdvGAN runs its networks on onnxruntime, which a synchronous crafting loop cannot await; ' +
          'craft it with craftAdversarial, not craftAdversarialSync',
      });
    } finally {
      await generator.dispose();
    }
  });
});
