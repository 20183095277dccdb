import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  ARCHITECTURES,
  architectureFingerprint,
  buildArchitecture,
  type ArchitectureInput,
} from '../../../src/compute/architectures.js';
import { buildNetwork, NETWORKS } from '../../../src/compute/network/architectures.js';
import { DIGIT_NETWORKS } from '../../../src/compute/network/digits.js';
import { convertTfjs } from '../../../src/compute/network/from-tfjs.js';
import { networkBytes, networkHash, type OnnxNetwork } from '../../../src/compute/network/network.js';

const SHAPES: readonly (readonly [number, number, number])[] = [
  [28, 28, 1],
  [32, 32, 3],
];
const SEEDS = [0, 1, 2, 5, 11, 12345, 2147483647];

/** What NETWORKS built for a digit architecture before it was a layer list: its tfjs model, converted. */
function converted(name: string, input: ArchitectureInput): OnnxNetwork {
  const model = buildArchitecture(name, input);
  try {
    return { ...convertTfjs(model).network, architecture: name };
  } finally {
    model.dispose();
  }
}

function assertIdentical(built: OnnxNetwork, reference: OnnxNetwork, what: string): void {
  assert.deepEqual(
    built.graph.nodes.map((n) => n.name),
    reference.graph.nodes.map((n) => n.name),
    `${what}: node names`,
  );
  assert.deepEqual([...built.graph.initializers.keys()], [...reference.graph.initializers.keys()], `${what}: names`);
  assert.deepEqual(built.trainable, reference.trainable, `${what}: trainable`);
  assert.equal(built.outputKind, reference.outputKind, `${what}: outputKind`);
  const { graph: _g, ...rest } = built;
  const { graph: _r, ...referenceRest } = reference;
  assert.deepEqual(rest, referenceRest, `${what}: the network's other fields (a saved network.json)`);
  // The bytes hold every initializer's values and every node's attributes.
  assert.ok(Buffer.from(networkBytes(built)).equals(Buffer.from(networkBytes(reference))), `${what}: bytes`);
}

describe('digit networks: ONNX layer lists byte for byte what their tfjs models converted to', () => {
  it('lists every tfjs-defined architecture, in its order, and registers each with tfjs kept', () => {
    assert.deepEqual([...DIGIT_NETWORKS.keys()], ARCHITECTURES.names());
    for (const name of ARCHITECTURES.names()) assert.equal(NETWORKS.get(name).tfjs, true, name);
  });

  it('builds the bytes convertTfjs made, for every architecture, seed and image shape', () => {
    const before = tf.memory().numTensors;
    for (const name of ARCHITECTURES.names())
      for (const imageShape of SHAPES)
        for (const seed of SEEDS) {
          const input = { imageShape, classes: 10, seed };
          assertIdentical(buildNetwork(name, input), converted(name, input), `${name} [${imageShape}] seed ${seed}`);
        }
    for (const name of ARCHITECTURES.names()) {
      // An odd height: model-b's strided "same" convolution pads it unevenly, as TensorFlow does.
      const input = { imageShape: [29, 30, 2] as const, classes: 3, seed: 9 };
      assertIdentical(buildNetwork(name, input), converted(name, input), `${name} [29,30,2] 3 classes`);
    }
    assert.equal(tf.memory().numTensors, before);
  });

  it('keeps the hashes that zoo targets and substitute caches were keyed by', () => {
    // networkHash and architectureFingerprint (the cache's topology, substitutes/obtain.ts) of
    // seed 0, [28, 28, 1], 10 classes, as they were when these networks were converted from tfjs.
    const pinned: Record<string, readonly [string, string]> = {
      softmax: ['1451e79062666710', '01be80f4a19bed06'],
      maxout: ['d75bf50047bd5034', 'c236fa4aeff1120e'],
      rbf: ['5a1262c916df3f07', '909e05b672bde0ab'],
      mlp: ['5b6542ef5dcf8ac4', '6796cad496376e71'],
      'cnn-small': ['8fbeb6f2d0565529', 'ccab7308e3af40b1'],
      'model-a': ['d0ee810312a155fc', 'cb13e88dd0265e13'],
      'model-b': ['95d7fc3075de4bc4', '5c18ba92cb067c3e'],
      'model-c': ['cdc4456974f0e197', '5631a352cfc4478d'],
    };
    const input = { imageShape: [28, 28, 1] as const, classes: 10, seed: 0 };
    for (const name of ARCHITECTURES.names()) {
      const [hash, fingerprint] = pinned[name] ?? ['', ''];
      assert.equal(networkHash(buildNetwork(name, input)), hash, `${name}: network hash`);
      assert.equal(architectureFingerprint(name, input), fingerprint, `${name}: architecture fingerprint`);
    }
  });
});
