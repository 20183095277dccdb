import assert from 'node:assert/strict';
import { Random } from '../../../src/common/random.js';
import { floatTensor, int, type Node, type TensorProto } from '../../../src/compute/onnx-gradient/ir.js';
import { initializerValues, networkHash, type OnnxNetwork } from '../../../src/compute/network/network.js';
import { networkLogits, networkSurrogate } from '../../../src/compute/network/run.js';
import {
  averageWeights,
  meanLogitsNetwork,
  recomputeBatchStatistics,
  snapshotNetworks,
} from '../../../src/compute/network/snapshots.js';

const SHAPE = [4, 4, 1] as const;
const CLASSES = 3;

/** images -> Flatten -> Gemm -> BatchNormalization -> logits: the smallest network with running statistics. */
function tinyBatchNormNetwork(seed: number): OnnxNetwork {
  const random = new Random(seed);
  const draw = (n: number) => Float32Array.from({ length: n }, () => random.next() - 0.5);
  const tensors: TensorProto[] = [
    floatTensor('w', [16, CLASSES], draw(16 * CLASSES)),
    floatTensor('b', [CLASSES], draw(CLASSES)),
    floatTensor('scale', [CLASSES], new Float32Array(CLASSES).fill(1)),
    floatTensor('shift', [CLASSES], new Float32Array(CLASSES)),
    floatTensor('mean', [CLASSES], new Float32Array(CLASSES)),
    floatTensor('variance', [CLASSES], new Float32Array(CLASSES).fill(1)),
  ];
  const node = (opType: string, inputs: string[], output: string, attributes: Node['attributes'] = {}): Node => ({
    opType,
    name: output,
    inputs,
    outputs: [output],
    attributes,
  });
  return {
    architecture: 'tiny-bn',
    graph: {
      nodes: [
        node('Flatten', ['images'], 'flat', { axis: int(1) }),
        node('Gemm', ['flat', 'w', 'b'], 'z'),
        node('BatchNormalization', ['z', 'scale', 'shift', 'mean', 'variance'], 'logits', {
          epsilon: { kind: 'float', value: 1e-5 },
        }),
      ],
      initializers: new Map(tensors.map((t) => [t.name, t])),
      inputs: [],
      outputs: [],
      opset: 13,
      otherOpsets: [],
    },
    imageShape: SHAPE,
    classes: CLASSES,
    outputKind: 'logits',
    trainable: ['w', 'b', 'scale', 'shift'],
  };
}

const images = (count: number, seed: number) => {
  const random = new Random(seed);
  return Float32Array.from({ length: count * 16 }, () => random.next());
};

/** Per-class mean and (biased) variance of count x classes logits. */
function moments(logits: Float32Array): { mean: number[]; variance: number[] } {
  const count = logits.length / CLASSES;
  const mean = Array.from({ length: CLASSES }, (_, k) => {
    let s = 0;
    for (let i = 0; i < count; i++) s += logits[i * CLASSES + k] as number;
    return s / count;
  });
  const variance = mean.map((m, k) => {
    let s = 0;
    for (let i = 0; i < count; i++) s += ((logits[i * CLASSES + k] as number) - m) ** 2;
    return s / count;
  });
  return { mean, variance };
}

describe('network snapshots', () => {
  const x = images(24, 7);

  it(
    'meanLogitsNetwork: logits are the mean of the snapshots, and of ' + 'identical snapshots the gradient is theirs',
    async () => {
      const [a, b] = [tinyBatchNormNetwork(1), tinyBatchNormNetwork(2)];
      const [la, lb, lm] = await Promise.all([
        networkLogits(a, x),
        networkLogits(b, x),
        networkLogits(meanLogitsNetwork([a, b], 'lgv(tiny-bn)'), x),
      ]);
      lm.forEach((v, i) => assert.ok(Math.abs(v - ((la[i] as number) + (lb[i] as number)) / 2) < 1e-6, `logit ${i}`));
      const labels = Int32Array.from({ length: 24 }, (_, i) => i % CLASSES);
      const single = await networkSurrogate(a, 'a');
      const pair = await networkSurrogate(meanLogitsNetwork([a, a], 'lgv(tiny-bn)'), 'a+a');
      try {
        const [one, two] = [
          await single.lossGradient(x, labels, { loss: 'cross-entropy' }),
          await pair.lossGradient(x, labels, { loss: 'cross-entropy' }),
        ];
        assert.deepEqual(two.gradient, one.gradient);
        assert.deepEqual(two.logits, one.logits);
      } finally {
        await single.dispose();
        await pair.dispose();
      }
    },
  );

  it('snapshotNetworks gives back the snapshots a meanLogitsNetwork holds, bit for bit', () => {
    const snapshots = [tinyBatchNormNetwork(9), tinyBatchNormNetwork(10), tinyBatchNormNetwork(11)];
    const back = snapshotNetworks(meanLogitsNetwork(snapshots, 'lgv(tiny-bn)'));
    // Each keeps the ensemble's architecture label (the hash reads it, in the model's doc string).
    assert.deepEqual(
      back.map((n) => networkHash({ ...n, architecture: 'tiny-bn' })),
      snapshots.map(networkHash),
    );
    assert.deepEqual(back[1]?.trainable, snapshots[1]?.trainable);
  });

  it('averageWeights: the average of identical snapshots is the snapshot, bit for bit', () => {
    const n = tinyBatchNormNetwork(3);
    assert.equal(networkHash(averageWeights([n, n, n])), networkHash(n));
  });

  it('averageWeights: each trainable weight is the mean of the snapshots', () => {
    const [a, b] = [tinyBatchNormNetwork(4), tinyBatchNormNetwork(5)];
    const swa = averageWeights([a, b]);
    for (const name of a.trainable) {
      const [va, vb, vs] = [a, b, swa].map((n) => initializerValues(n.graph, name).values);
      (vs as Float32Array).forEach((v, i) =>
        assert.equal(v, Math.fround(((va?.[i] as number) + (vb?.[i] as number)) / 2)),
      );
    }
  });

  it(
    'recomputeBatchStatistics: the running mean is the data mean, the ' + 'variance the batch variance in one batch',
    async () => {
      const n = tinyBatchNormNetwork(6);
      const whole = await recomputeBatchStatistics(n, x, 24);
      const { mean, variance } = moments(await networkLogits(whole, x));
      mean.forEach((m) => assert.ok(Math.abs(m) < 1e-5, `mean ${m}`));
      variance.forEach((v) => assert.ok(Math.abs(v - 1) < 1e-3, `variance ${v}`));
      // In batches of 8, the mean of the batch means is still the data's mean.
      const batched = moments(await networkLogits(await recomputeBatchStatistics(n, x, 8), x));
      batched.mean.forEach((m) => assert.ok(Math.abs(m) < 1e-5, `mean ${m}`));
    },
  );

  it('recomputeBatchStatistics: a network without BatchNormalization comes back as it is', async () => {
    const n = tinyBatchNormNetwork(8);
    const plain: OnnxNetwork = {
      ...n,
      graph: {
        ...n.graph,
        nodes: n.graph.nodes.map((d) =>
          d.opType === 'BatchNormalization' ? { ...d, opType: 'Identity', inputs: ['z'] } : d,
        ),
      },
    };
    assert.equal(await recomputeBatchStatistics(plain, x, 8), plain);
  });
});
