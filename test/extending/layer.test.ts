/**
 * Worked example (docs/extending.md): adding a layer kind and an architecture built from it. A
 * depthwise-separable convolution (MobileNet, Howard et al. 1704.04861): a 3x3 convolution per
 * channel (group = channels) then a 1x1 convolution across them, each He-uniform from the
 * builder's seeded stream. In the tree: src/compute/network/layers/separable.ts, and the
 * architecture's entry in src/compute/network/architectures.ts (NETWORKS).
 */
import assert from 'node:assert/strict';
import { NETWORKS } from '../../src/compute/network/architectures.js';
import { NetworkBuilder } from '../../src/compute/network/builder.js';
import { batchNorm } from '../../src/compute/network/layers/batch-norm.js';
import { conv } from '../../src/compute/network/layers/conv.js';
import { dense } from '../../src/compute/network/layers/dense.js';
import { globalAveragePool, relu } from '../../src/compute/network/layers/pool.js';
import {
  initializerValues,
  networkHash,
  withInitializers,
  type OnnxNetwork,
} from '../../src/compute/network/network.js';
import { networkLogits } from '../../src/compute/network/run.js';
import { optimizerSettings } from '../../src/compute/onnx-train/optimizer.js';
import { trainNetworkOnOnnxruntime } from '../../src/compute/onnx-train/train.js';
import { OnnxTrainer } from '../../src/compute/onnx-train/trainer.js';
import { trainingForm } from '../../src/compute/onnx-train/training-form.js';
import type { ArchitectureInput } from '../../src/compute/architectures.js';
import { int, ints } from '../../src/compute/onnx-gradient/ir.js';

/** The layer: its nodes, its seeded weights, and what it does to the builder's shape and cost. */
function separable(b: NetworkBuilder, filters: number, stride = 1): string {
  const [c, h, w] = b.shape as [number, number, number];
  const depthwise = b.weight('dw_w', [c, 1, 3, 3], 'he-uniform', { in: 9, out: 9 });
  b.current = b.emit.node('Conv', [b.current, depthwise], {
    kernel_shape: ints([3, 3]),
    strides: ints([stride, stride]),
    pads: ints([1, 1, 1, 1]),
    dilations: ints([1, 1]),
    group: int(c),
  });
  const size = (n: number) => Math.floor((n + 2 - 3) / stride) + 1;
  b.shape = [c, size(h), size(w)];
  b.multiplyAdds += 9 * c * size(h) * size(w);
  batchNorm(b);
  relu(b);
  return conv(b, { filters, kernel: 1, pad: 0, bias: false });
}

/** An architecture from it: a small MobileNet-style classifier. */
const mobileTiny = {
  name: 'mobile-tiny',
  description: 'a 3x3 stem and three depthwise-separable blocks (MobileNet, 1704.04861), widths 16-64',
  tfjs: false,
  build: (input: ArchitectureInput): OnnxNetwork => {
    const b = new NetworkBuilder(input.imageShape, input.seed);
    conv(b, { filters: 16, kernel: 3, bias: false });
    batchNorm(b);
    relu(b);
    for (const [filters, stride] of [
      [32, 2],
      [64, 2],
      [64, 1],
    ] as const) {
      separable(b, filters, stride);
      batchNorm(b);
      relu(b);
    }
    globalAveragePool(b);
    dense(b, input.classes);
    return b.finish('mobile-tiny', input.classes);
  },
};

const SHAPE = [12, 12, 2] as const;

describe('extending: a layer (depthwise-separable convolution) and an architecture of it', () => {
  before(() => NETWORKS.add(mobileTiny.name, mobileTiny));
  after(() => NETWORKS.remove(mobileTiny.name));

  it('builds from its seed byte for byte and runs in onnxruntime', async () => {
    const input = { imageShape: SHAPE, classes: 4, seed: 1 };
    const a = NETWORKS.get('mobile-tiny').build(input);
    assert.equal(networkHash(a), networkHash(NETWORKS.get('mobile-tiny').build(input)));
    const logits = await networkLogits(a, new Float32Array(2 * 288).fill(0.5));
    assert.equal(logits.length, 8);
    assert.ok(logits.every(Number.isFinite));
  });

  it("trains: its grouped convolution's weight gradient equals central differences, and the loss falls", async () => {
    const network = NETWORKS.get('mobile-tiny').build({ imageShape: SHAPE, classes: 4, seed: 2 });
    const n = 8;
    const images = Float32Array.from({ length: n * 288 }, (_, i) => 0.5 + 0.4 * Math.sin(0.31 * i));
    const targets = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) targets[i * 4 + (i % 4)] = 1;
    const loss = async (net: OnnxNetwork) => {
      const trainer = await OnnxTrainer.create(await trainingForm(net, 'images', 'logits'), {
        loss: 'softmax-cross-entropy',
        classes: 4,
        optimizer: optimizerSettings('adam', 1e-3),
        threads: 1,
        optimizerInGraph: false,
      });
      try {
        const out = await trainer.gradients({
          count: n,
          images,
          targets,
          sampleWeights: new Float32Array(n).fill(1 / n),
          masks: [],
        });
        return {
          loss: out.loss,
          gradients: new Map(trainer.trainable.map((w, i) => [w.name, out.gradients[i] as Float32Array])),
        };
      } finally {
        await trainer.dispose();
      }
    };
    const depthwise = network.trainable.find((w) => w.startsWith('dw_w')) as string;
    const g = (await loss(network)).gradients.get(depthwise) as Float32Array;
    const k = g.reduce((best, v, i) => (Math.abs(v) > Math.abs(g[best] as number) ? i : best), 0);
    const values = initializerValues(network.graph, depthwise).values;
    const at = async (delta: number) => {
      const moved = Float32Array.from(values);
      moved[k] = (moved[k] as number) + delta;
      return (await loss(withInitializers(network, new Map([[depthwise, moved]])))).loss;
    };
    // A small step: the loss curves fast along one depthwise tap (measured: h = 1e-2 is 10% off, 1e-4 within 0.3%).
    const numeric = ((await at(1e-4)) - (await at(-1e-4))) / 2e-4;
    assert.ok(Math.abs(numeric - (g[k] as number)) <= 3e-2 * Math.abs(g[k] as number) + 1e-3, `${g[k]} vs ${numeric}`);
    const losses: number[] = [];
    await trainNetworkOnOnnxruntime(
      network,
      { images, imageShape: SHAPE, targets, classes: 4 },
      { epochs: 30, batchSize: 8, learningRate: 1e-2, seed: 0, onEpoch: (_, l) => losses.push(l) },
      { threads: 1, optimizerInGraph: false },
    );
    assert.ok((losses.at(-1) as number) < (losses[0] as number) / 2, `loss ${losses[0]} -> ${losses.at(-1)}`);
  });
});
