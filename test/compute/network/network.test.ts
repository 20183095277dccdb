import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ARCHITECTURES, buildArchitecture } from '../../../src/compute/architectures.js';
import { useBackend } from '../../../src/compute/backend.js';
import { buildNetwork, NETWORKS } from '../../../src/compute/network/architectures.js';
import {
  initializerValues,
  networkHash,
  withInitializers,
  type OnnxNetwork,
} from '../../../src/compute/network/network.js';
import { networkLogits, networkSurrogate } from '../../../src/compute/network/run.js';
import { trainingForm } from '../../../src/compute/onnx-train/training-form.js';
import { OnnxTrainer } from '../../../src/compute/onnx-train/trainer.js';
import { trainNetworkOnOnnxruntime } from '../../../src/compute/onnx-train/train.js';
import { optimizerSettings } from '../../../src/compute/onnx-train/optimizer.js';
import { loadEmbeddedMnist } from '../../../src/data/index.js';

const SMALL: [number, number, number] = [8, 8, 2];
const settings = { threads: 1, optimizerInGraph: false };

/**
 * The training-mode loss (BatchNormalization on the batch's statistics) of `network` on a batch, and its weight
 * gradients.
 */
async function lossAndGradients(network: OnnxNetwork, images: Float32Array, targets: Float32Array, n: number) {
  const form = await trainingForm(network, 'images', 'logits');
  const trainer = await OnnxTrainer.create(form, {
    loss: 'softmax-cross-entropy',
    classes: network.classes,
    optimizer: optimizerSettings('adam', 1e-3),
    threads: 1,
    optimizerInGraph: false,
  });
  try {
    const masks = trainer.masks.map((m) => new Float32Array(n * m.shape.reduce((a, b) => a * b, 1)).fill(1));
    const out = await trainer.gradients({
      count: n,
      images,
      targets,
      sampleWeights: new Float32Array(n).fill(1 / n),
      masks,
    });
    return {
      loss: out.loss,
      gradients: new Map(form.weights.map((w, i) => [w.name, out.gradients[i] as Float32Array])),
    };
  } finally {
    await trainer.dispose();
  }
}

function smoothBatch(n: number, shape: readonly number[], seed: number): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n * size }, (_, i) => 0.5 + 0.4 * Math.sin(0.37 * i + seed));
}

describe('ONNX networks: every architecture built, trained and attacked as an ONNX graph', () => {
  before(async () => {
    await useBackend('wasm');
  });

  it('builds every registered architecture from its seed, byte for byte, and runs it in onnxruntime', async () => {
    for (const name of NETWORKS.names()) {
      const input = { imageShape: [28, 28, 1] as const, classes: 10, seed: 3 };
      const a = buildNetwork(name, input);
      assert.equal(networkHash(a), networkHash(buildNetwork(name, input)), `${name}: one seed, one network`);
      assert.notEqual(networkHash(a), networkHash(buildNetwork(name, { ...input, seed: 4 })), `${name}: seeds differ`);
      const logits = await networkLogits(a, smoothBatch(2, [28, 28, 1], 1));
      assert.equal(logits.length, 20, name);
      assert.ok(logits.every(Number.isFinite), `${name}: finite logits`);
    }
  });

  it('a tfjs-defined architecture computes what tfjs computes (<= 1e-4)', async () => {
    for (const name of ARCHITECTURES.names()) {
      const model = buildArchitecture(name, { imageShape: [28, 28, 1], classes: 10, seed: 2 });
      const network = buildNetwork(name, { imageShape: [28, 28, 1], classes: 10, seed: 2 });
      const images = smoothBatch(3, [28, 28, 1], 2);
      const expected = tf.tidy(() => (model.predict(tf.tensor4d(images, [3, 28, 28, 1])) as tf.Tensor).dataSync());
      const got = await networkLogits(network, images);
      model.dispose();
      const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - (expected[i] as number))), 0);
      assert.ok(worst <= 1e-4, `${name}: max |difference| ${worst}`);
    }
  });

  // Central differences of a float32 loss through batch statistics of a few images are good to about 1%
  // (measured: ResNet-8 0.1-0.4%, VGG-11 on 16x16 images 1-1.5%); a wrong backward pass is off by far more.
  for (const [name, shape, n] of [
    ['resnet8', SMALL, 4],
    ['vgg11', [16, 16, 2], 8],
  ] as const) {
    it(`${name}: weight gradients in training mode equal central differences of the loss`, async () => {
      const network = buildNetwork(name, { imageShape: shape, classes: 3, seed: 5 });
      const images = smoothBatch(n, shape, 5);
      const targets = new Float32Array(n * 3);
      for (let i = 0; i < n; i++) targets[i * 3 + (i % 3)] = 1;
      const { gradients } = await lossAndGradients(network, images, targets, n);
      // The first convolution, a BatchNormalization scale in the middle and the classifier.
      const names = [
        network.trainable[0],
        network.trainable[Math.floor(network.trainable.length / 2)],
        network.trainable.at(-2),
      ];
      for (const weight of names as string[]) {
        const { values } = initializerValues(network.graph, weight);
        const g = gradients.get(weight) as Float32Array;
        const k = g.reduce((best, v, i) => (Math.abs(v) > Math.abs(g[best] as number) ? i : best), 0);
        const h = 1e-3;
        const at = async (delta: number) => {
          const moved = Float32Array.from(values);
          moved[k] = (moved[k] as number) + delta;
          return (await lossAndGradients(withInitializers(network, new Map([[weight, moved]])), images, targets, n))
            .loss;
        };
        const numeric = ((await at(h)) - (await at(-h))) / (2 * h);
        const analytic = g[k] as number;
        assert.ok(
          Math.abs(numeric - analytic) <= 3e-2 * Math.abs(analytic) + 1e-3,
          `${weight}[${k}]: analytic ${analytic}, central difference ${numeric}`,
        );
      }
    });
  }

  it(
    'resnet8 trains on onnxruntime (BatchNormalization in training mode) ' +
      'and is attacked through its ONNX gradient',
    async () => {
      const digits = loadEmbeddedMnist();
      const n = 128;
      const set = {
        images: digits.images.subarray(0, n * 784),
        imageShape: [28, 28, 1] as const,
        targets: digits.labels.subarray(0, n),
        classes: 10,
      };
      const network = buildNetwork('resnet8', { imageShape: [28, 28, 1], classes: 10, seed: 1 });
      const losses: number[] = [];
      const { network: trained } = await trainNetworkOnOnnxruntime(
        network,
        set,
        { epochs: 3, batchSize: 32, learningRate: 1e-3, seed: 1, onEpoch: (_, loss) => losses.push(loss) },
        settings,
      );
      assert.ok((losses[2] as number) < (losses[0] as number) / 2, `the loss falls: ${losses.join(', ')}`);
      const bnMean = trained.graph.nodes.find((node) => node.opType === 'BatchNormalization')?.inputs[3] as string;
      assert.ok(
        initializerValues(trained.graph, bnMean).values.some((v) => v !== 0),
        'running means moved toward the batches',
      );
      const surrogate = await networkSurrogate(trained, 'resnet8');
      try {
        const { gradient } = await surrogate.lossGradient(set.images.subarray(0, 2 * 784), set.targets.subarray(0, 2), {
          loss: 'cross-entropy',
        });
        assert.equal(gradient.length, 2 * 784);
        assert.ok(gradient.some((v) => v !== 0) && gradient.every(Number.isFinite));
      } finally {
        await surrogate.dispose();
      }
    },
  );
});
