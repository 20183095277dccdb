import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Random } from '../../../src/common/random.js';
import { buildGradientModel } from '../../../src/compute/onnx-gradient/build.js';
import { drawGhost, erodeGraph, type GhostInput } from '../../../src/compute/onnx-gradient/ghost.js';
import { GRADIENT_IO } from '../../../src/compute/onnx-gradient/heads.js';
import { decodeModel, tensorValues } from '../../../src/compute/onnx-gradient/ir.js';
import { TinyGraph } from './tiny-graph.js';

const D = 5;
const K = 3;

/** One residual block h = x + relu(x A) B on a D-pixel image (x = 2 v - 1), then logits = h W. */
function residualBlock() {
  const g = new TinyGraph([D, 1, 1], 13, 8);
  const x = g.node('Flatten', ['x']);
  const [a, b, w] = [g.weight([D, D], 0.9), g.weight([D, D], 0.9), g.weight([D, K], 0.9)];
  const h = g.node('Add', [x, g.node('Gemm', [g.node('Relu', [g.node('Gemm', [x, a])]), b])]);
  const model = g.asIs(g.node('Gemm', [h, w]), K);
  const values = new Map([...decodeModel(model.bytes).initializers.values()].map((t) => [t.name, tensorValues(t)]));
  const matrix = (name: string, cols: number) => {
    const flat = values.get(name) as number[];
    return Array.from({ length: D }, (_, i) => flat.slice(i * cols, (i + 1) * cols));
  };
  return { ...model, a: matrix(a, D), b: matrix(b, D), w: matrix(w, K) };
}

const times = (x: number[], m: number[][]) =>
  (m[0] as number[]).map((_, j) => x.reduce((s, v, i) => s + v * ((m[i] as number[])[j] as number), 0));

/** The eroded gradient model of `bytes` and the ghost inputs it reads. */
async function erodedModel(net: { bytes: Uint8Array; description: ReturnType<typeof residualBlock>['description'] }) {
  let inputs: GhostInput[] = [];
  const bytes = await buildGradientModel(net.bytes, net.description, {
    loss: 'cross-entropy',
    rewrite: (graph, facts) => {
      const eroded = erodeGraph(graph, facts, GRADIENT_IO.images);
      inputs = eroded.inputs;
      return eroded;
    },
  });
  return { session: await ort.InferenceSession.create(bytes), inputs };
}

describe('ghost networks (compute/onnx-gradient/ghost.ts)', () => {
  it(
    'skip erosion: the eroded forward is the hand computation h = lambda * ' +
      'x + relu(x A) B, lambda fed per feature',
    async () => {
      const net = residualBlock();
      const { session, inputs } = await erodedModel(net);
      assert.deepEqual(
        inputs.map((i) => [i.kind, i.shape]),
        [['skip', [1, D]]],
      );
      const random = new Random(3);
      const image = Float32Array.from({ length: D }, () => random.next());
      const lambda = Float32Array.from([0.84, 1.16, 1, 0.9, 1.1]);
      try {
        const out = await session.run({
          [GRADIENT_IO.images]: new ort.Tensor('float32', image, [1, 1, 1, D]),
          [GRADIENT_IO.labels]: new ort.Tensor('int32', Int32Array.from([1]), [1]),
          [(inputs[0] as GhostInput).name]: new ort.Tensor('float32', lambda, [1, D]),
        });
        const x = Array.from(image, (v) => 2 * v - 1);
        const branch = times(
          times(x, net.a).map((p) => Math.max(p, 0)),
          net.b,
        );
        const h = x.map((v, i) => (lambda[i] as number) * v + (branch[i] as number));
        const logits = Array.from(out[GRADIENT_IO.logits]?.data as Float32Array);
        const want = times(h, net.w);
        for (let j = 0; j < K; j++) assert.ok(Math.abs((logits[j] as number) - (want[j] as number)) < 1e-5);
      } finally {
        await session.release();
      }
    },
  );

  it('dropout erosion on a network without skips: one mask per Relu, none on a residual network', async () => {
    const g = new TinyGraph([D, 1, 1], 13, 9);
    const relu = g.node('Relu', [g.node('Gemm', [g.node('Flatten', ['x']), g.weight([D, 4])])]);
    const plain = g.asIs(g.node('Gemm', [g.node('Relu', [relu]), g.weight([4, K])]), K);
    const { session, inputs } = await erodedModel(plain);
    await session.release();
    assert.deepEqual(
      inputs.map((i) => [i.kind, i.shape]),
      [
        ['dropout', [1, 4]],
        ['dropout', [1, 4]],
      ],
    );
    const residual = await erodedModel(residualBlock());
    await residual.session.release();
    assert.ok(residual.inputs.every((i) => i.kind === 'skip'));
  });

  it(
    'draws: lambdas in [1 - r, 1 + r], masks 0 or 1 / (1 - rate); the same ' + 'seed and step repeat, another differs',
    () => {
      const inputs: GhostInput[] = [
        { name: 's', kind: 'skip', shape: [1, 64, 1, 1] },
        { name: 'd', kind: 'dropout', shape: [1, 200] },
      ];
      const erosion = { skipRange: 0.16, dropRate: 0.25 };
      const draw = (seed: number, step: number) => drawGhost(inputs, erosion, seed, step);
      const first = draw(7, 0);
      for (const v of first.get('s') as Float32Array) assert.ok(v >= 0.84 - 1e-7 && v <= 1.16 + 1e-7);
      const masks = new Set(first.get('d'));
      assert.deepEqual([...masks].sort(), [0, Math.fround(1 / 0.75)]);
      assert.deepEqual(draw(7, 0), first);
      assert.notDeepEqual(draw(7, 1).get('s'), first.get('s'));
      assert.notDeepEqual(draw(8, 0).get('s'), first.get('s'));
      const none = drawGhost(inputs, { skipRange: 0, dropRate: 0 }, 7, 3);
      for (const values of none.values()) assert.ok(values.every((v) => v === 1));
    },
  );
});
