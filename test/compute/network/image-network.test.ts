import assert from 'node:assert/strict';
import { buildDiscriminator, buildGenerator } from '../../../src/attacks/advgan/networks.js';
import { useBackend } from '../../../src/compute/backend.js';
import { convertTfjs } from '../../../src/compute/network/from-tfjs.js';
import { imageNetworkFromTfjs, scopedGraph } from '../../../src/compute/network/image-network.js';
import { encodeModel } from '../../../src/compute/onnx-gradient/ir.js';

describe('image networks', () => {
  before(async () => {
    await useBackend('wasm');
  });

  it('scopedGraph gives, byte for byte, the graph a conversion under that prefix and input gives', () => {
    for (const [build, input] of [
      [buildGenerator, 'images'],
      [buildDiscriminator, 'adversarial'],
    ] as const) {
      const model = build([8, 8, 1], 3);
      try {
        const network = imageNetworkFromTfjs(model, 'test');
        const direct = convertTfjs(model, { prefix: 'g/', input, output: 'g/output' }).network.graph;
        assert.deepEqual(
          Buffer.from(encodeModel(scopedGraph(network, 'g/', input), 'x')),
          Buffer.from(encodeModel(direct, 'x')),
        );
      } finally {
        model.dispose();
      }
    }
  });

  it('knows each output shape: an image per image for the generator, one score for the discriminator', () => {
    const generator = buildGenerator([8, 8, 1], 3);
    const discriminator = buildDiscriminator([8, 8, 1], 3);
    try {
      assert.deepEqual(imageNetworkFromTfjs(generator, 'g').outputShape, [8, 8, 1]);
      assert.deepEqual(imageNetworkFromTfjs(discriminator, 'd').outputShape, [1]);
    } finally {
      generator.dispose();
      discriminator.dispose();
    }
  });
});
