import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import {
  DataType,
  encodeModel,
  floatTensor,
  int,
  ints,
  valueInfo,
  type Graph,
  type Node,
} from '../../../src/compute/onnx-gradient/ir.js';
import type { Facts } from '../../../src/compute/onnx-gradient/probe.js';
import { blockedConvolutions, nchwcBlockSize } from '../../../src/compute/onnx-train/nchwc.js';
import { Random } from '../../../src/common/random.js';

/** x [N, C, 6, 6] -> Conv(w, b) [N, O, 4, 4] -> Relu, with the weights as inputs as in the training graph. */
function convGraph(channels: number, filters: number, group = 1): { graph: Graph; facts: Facts } {
  const nodes: Node[] = [
    {
      opType: 'Conv',
      name: 'conv',
      inputs: ['x', 'w', 'b'],
      outputs: ['y'],
      attributes: { kernel_shape: ints([3, 3]), group: int(group) },
    },
    { opType: 'Relu', name: 'relu', inputs: ['y'], outputs: ['z'], attributes: {} },
  ];
  const graph: Graph = {
    nodes,
    initializers: new Map([
      [
        'b',
        floatTensor(
          'b',
          [filters],
          Array.from({ length: filters }, (_, i) => (i % 5) * 0.1 - 0.2),
        ),
      ],
    ]),
    inputs: [
      valueInfo('x', DataType.FLOAT, [2, channels, 6, 6]),
      valueInfo('w', DataType.FLOAT, [filters, channels / group, 3, 3]),
    ],
    outputs: [valueInfo('z', DataType.FLOAT, [2, filters, 4, 4])],
    opset: 13,
    otherOpsets: [],
  };
  const facts: Facts = new Map([
    ['x', { type: 'float32', shape: [-1, channels, 6, 6] }],
    ['w', { type: 'float32', shape: [filters, channels / group, 3, 3] }],
    ['y', { type: 'float32', shape: [-1, filters, 4, 4] }],
  ]);
  return { graph, facts };
}

async function run(graph: Graph, channels: number, filters: number, group = 1): Promise<Float32Array> {
  const random = new Random(3);
  const x = Float32Array.from({ length: 2 * channels * 36 }, () => random.next() - 0.5);
  const w = Float32Array.from({ length: filters * (channels / group) * 9 }, () => random.next() - 0.5);
  const session = await ort.InferenceSession.create(encodeModel(graph, 'nchwc test'), { intraOpNumThreads: 1 });
  try {
    const out = await session.run({
      x: new ort.Tensor('float32', x, [2, channels, 6, 6]),
      w: new ort.Tensor('float32', w, [filters, channels / group, 3, 3]),
    });
    return out.z?.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('onnxruntime training engine: blocked-channel (NCHWc) convolutions', () => {
  let block = 0;
  before(async function () {
    block = await nchwcBlockSize();
    if (block === 0) this.skip(); // this onnxruntime build has no com.microsoft.nchwc kernels: the plain Conv stays
  });

  it('probes a block size of at least 4 channels', () => {
    assert.ok(block >= 4 && (block & (block - 1)) === 0, `block size ${block}`);
  });

  it(
    'rewrites a Conv with whole blocks of channels, fuses its Relu, ' + 'and computes the same values (<= 1e-5)',
    async () => {
      const [channels, filters] = [2 * block, block];
      const { graph, facts } = convGraph(channels, filters);
      const rewritten = blockedConvolutions(graph, facts, block);
      assert.deepEqual(
        rewritten.nodes.filter((n) => n.domain !== undefined).map((n) => n.opType),
        ['ReorderInput', 'Conv', 'ReorderOutput'],
      );
      assert.ok(!rewritten.nodes.some((n) => n.opType === 'Relu'), 'the Relu is fused into the blocked Conv');
      const [plain, blocked] = [await run(graph, channels, filters), await run(rewritten, channels, filters)];
      const worst = Math.max(...Array.from(plain, (v, i) => Math.abs(v - (blocked[i] as number))));
      assert.ok(worst <= 1e-5, `max |difference| ${worst}`);
    },
  );

  it('keeps the plain Conv for a first layer, a partial block and a grouped Conv', () => {
    for (const [channels, filters, group] of [
      [1, block, 1],
      [block, block + 4, 1],
      [2 * block, 2 * block, 2],
    ] as const) {
      const { graph, facts } = convGraph(channels, filters, group);
      assert.equal(
        blockedConvolutions(graph, facts, block),
        graph,
        `channels ${channels}, filters ${filters}, group ${group}`,
      );
    }
  });
});
