import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Random } from '../../../src/common/random.js';
import { buildGradientModel } from '../../../src/compute/onnx-gradient/build.js';
import { decodeModel, tensorValues } from '../../../src/compute/onnx-gradient/ir.js';
import type { BackwardTricks } from '../../../src/compute/onnx-gradient/tricks.js';
import { normwiseRelativeError } from './finite-differences.js';
import { TinyGraph } from './tiny-graph.js';

const D = 6;
const K = 3;
type Matrix = number[][];

/** x W for a row vector x and W of shape [in, out]. */
const times = (x: number[], w: Matrix) =>
  (w[0] as number[]).map((_, j) => x.reduce((s, v, i) => s + v * ((w[i] as number[])[j] as number), 0));
/** g W^T: the gradient through x W. */
const timesTransposed = (g: number[], w: Matrix) =>
  w.map((row) => row.reduce((s, v, j) => s + v * (g[j] as number), 0));

/**
 * Two residual blocks h_{i+1} = h_i + relu(h_i W_a) W_b, then logits = h_2 W_out, on a D-pixel
 * image normalised to x = 2 v - 1. Returns the ONNX model, the weights, and the name of the
 * first block's Add.
 */
function twoBlockNetwork() {
  const g = new TinyGraph([D, 1, 1], 13, 21);
  const weights: Matrix[] = [];
  const weight = (rows: number, cols: number) => g.weight([rows, cols], 0.9);
  let h = g.node('Flatten', ['x']);
  const names: string[] = [];
  let firstAdd = '';
  for (let block = 0; block < 2; block++) {
    const a = weight(D, D);
    const b = weight(D, D);
    names.push(a, b);
    h = g.node('Add', [h, g.node('Gemm', [g.node('Relu', [g.node('Gemm', [h, a])]), b])]);
    if (block === 0) firstAdd = g.lastNodeName();
  }
  const out = weight(D, K);
  names.push(out);
  const model = g.asIs(g.node('Gemm', [h, out]), K);
  // Read the weights back from the model bytes: one source of truth for the hand computation.
  const initializers = new Map<string, number[]>();
  for (const t of decodeModel(model.bytes).initializers.values()) initializers.set(t.name, tensorValues(t));
  for (const name of names) {
    const values = initializers.get(name) as number[];
    const cols = name === out ? K : D;
    weights.push(Array.from({ length: D }, (_, i) => values.slice(i * cols, (i + 1) * cols)));
  }
  return { ...model, weights, firstAdd };
}

/** The gradient of cross-entropy by hand, with SGM's gamma on each branch and LinBP from block `linearFrom`. */
function handGradient(v: number[], label: number, weights: Matrix[], gamma: number, linearFrom: number): number[] {
  const [a1, b1, a2, b2, out] = weights as [Matrix, Matrix, Matrix, Matrix, Matrix];
  const x = v.map((p) => 2 * p - 1);
  const pre1 = times(x, a1);
  const h1 = times(
    pre1.map((p) => Math.max(p, 0)),
    b1,
  ).map((p, i) => p + (x[i] as number));
  const pre2 = times(h1, a2);
  const h2 = times(
    pre2.map((p) => Math.max(p, 0)),
    b2,
  ).map((p, i) => p + (h1[i] as number));
  const logits = times(h2, out);
  const max = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - max));
  const sum = e.reduce((s, q) => s + q, 0);
  const dLogits = e.map((q, j) => q / sum - (j === label ? 1 : 0));
  const back = (g: number[], pre: number[], a: Matrix, b: Matrix, block: number) => {
    const throughRelu = timesTransposed(g, b).map((q, i) => (block >= linearFrom || (pre[i] as number) > 0 ? q : 0));
    const branch = timesTransposed(throughRelu, a);
    return g.map((q, i) => q + gamma * (branch[i] as number));
  };
  const dh2 = timesTransposed(dLogits, out);
  const dh1 = back(dh2, pre2, a2, b2, 1);
  const dx = back(dh1, pre1, a1, b1, 0);
  return dx.map((q) => 2 * q);
}

async function generatedGradient(
  bytes: Uint8Array,
  description: Parameters<typeof buildGradientModel>[1],
  tricks: BackwardTricks,
  images: Float32Array,
  labels: Int32Array,
) {
  const session = await ort.InferenceSession.create(
    await buildGradientModel(bytes, description, { loss: 'cross-entropy', tricks }),
  );
  try {
    const result = await session.run({
      images: new ort.Tensor('float32', images, [labels.length, 1, 1, D]),
      labels: new ort.Tensor('int32', labels, [labels.length]),
    });
    return result.gradient?.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('backward-pass tricks on a two-block residual network', () => {
  const random = new Random(4);
  const count = 4;
  const images = Float32Array.from({ length: count * D }, () => random.next());
  const labels = Int32Array.from({ length: count }, () => random.int(K));
  const expected = (net: ReturnType<typeof twoBlockNetwork>, gamma: number, linearFrom: number) =>
    Array.from(labels).flatMap((label, n) =>
      handGradient(Array.from(images.subarray(n * D, (n + 1) * D)), label, net.weights, gamma, linearFrom),
    );

  const cases: {
    name: string;
    tricks: (net: ReturnType<typeof twoBlockNetwork>) => BackwardTricks;
    gamma: number;
    linearFrom: number;
  }[] = [
    { name: 'no trick: the plain gradient', tricks: () => ({}), gamma: 1, linearFrom: 2 },
    {
      name: 'SGM gamma 0.5: each residual branch gradient halved',
      tricks: () => ({ sgm: { gamma: 0.5 } }),
      gamma: 0.5,
      linearFrom: 2,
    },
    {
      name: "LinBP after the first block: the second block's Relu passes gradient as identity",
      tricks: (net) => ({ linbp: { after: net.firstAdd } }),
      gamma: 1,
      linearFrom: 1,
    },
    {
      name: 'SGM and LinBP together',
      tricks: (net) => ({ sgm: { gamma: 0.2 }, linbp: { after: net.firstAdd } }),
      gamma: 0.2,
      linearFrom: 1,
    },
  ];
  for (const c of cases) {
    it(`${c.name} equals the hand-computed gradient`, async () => {
      const net = twoBlockNetwork();
      const actual = await generatedGradient(net.bytes, net.description, c.tricks(net), images, labels);
      const want = expected(net, c.gamma, c.linearFrom);
      assert.ok(normwiseRelativeError(actual, want) <= 1e-5, `error ${normwiseRelativeError(actual, want)}`);
      // And the trick changes the gradient (the hand computation without it differs).
      if (c.gamma !== 1 || c.linearFrom !== 2) assert.ok(normwiseRelativeError(actual, expected(net, 1, 2)) > 1e-2);
    });
  }

  it('refuses a gamma outside (0, 1] and an unknown LinBP node', async () => {
    const net = twoBlockNetwork();
    await assert.rejects(
      buildGradientModel(net.bytes, net.description, { loss: 'cross-entropy', tricks: { sgm: { gamma: 0 } } }),
      /tricks.sgm.gamma: got 0, expected a number in \(0, 1\]/,
    );
    await assert.rejects(
      buildGradientModel(net.bytes, net.description, {
        loss: 'cross-entropy',
        tricks: { linbp: { after: 'nowhere' } },
      }),
      /tricks.linbp.after: got "nowhere", expected the name of a node of the model/,
    );
  });
});
