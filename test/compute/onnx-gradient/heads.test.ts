import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Random } from '../../../src/common/random.js';
import { createOnnxSurrogate } from '../../../src/compute/onnx-gradient/surrogate.js';
import { int, ints } from '../../../src/compute/onnx-gradient/ir.js';
import type { OnnxModelDescription } from '../../../src/compute/onnx-gradient/heads.js';
import { checkAgainstFiniteDifferences } from './finite-differences.js';
import { TinyGraph } from './tiny-graph.js';

/** A small NCHW CNN classifier: Conv, Tanh (smooth, so finite differences hold at any scale), Gemm to 4 classes. */
async function smallClassifier(shape: readonly [number, number, number] = [3, 5, 5]) {
  const g = new TinyGraph(shape);
  const features = g.node('Tanh', [
    g.node('Conv', ['x', g.weight([6, shape[0], 3, 3]), g.weight([6], 0.1)], { pads: ints([1, 1, 1, 1]) }),
  ]);
  return g.classifier(g.node('Mul', [features, g.floats([], [3])]), 4);
}

/** The same classifier written for NHWC input: a Transpose to NCHW first. */
async function nhwcClassifier() {
  const g = new TinyGraph([5, 5, 3]);
  const nchw = g.node('Transpose', ['x'], { perm: ints([0, 3, 1, 2]) });
  const features = g.node('Tanh', [g.node('Conv', [nchw, g.weight([4, 3, 3, 3])])]);
  const built = await g.classifier(features, 4);
  return {
    bytes: built.bytes,
    description: { ...built.description, layout: 'NHWC' as const, inputShape: [5, 5, 3] as const },
  };
}

const softmax = (row: Float32Array) => {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
};

describe('ONNX gradient heads: preprocessing and losses', () => {
  const variants: { name: string; description: (d: OnnxModelDescription) => OnnxModelDescription }[] = [
    {
      name: 'NCHW, range [0, 255], per-channel mean and std',
      description: (d) => ({ ...d, inputRange: [0, 255], normalization: { mean: [120, 110, 100], std: [60, 50, 70] } }),
    },
    {
      name: 'NCHW, range [-1, 1], no normalisation',
      description: (d) => ({ ...d, inputRange: [-1, 1], normalization: { mean: [0], std: [1] } }),
    },
  ];
  for (const v of variants) {
    it(`cross-entropy through ${v.name}: matches finite differences`, async () => {
      const { bytes, description } = await smallClassifier();
      const check = await checkAgainstFiniteDifferences(bytes, v.description(description), { loss: 'cross-entropy' });
      assert.ok(check.error <= 1e-3, `error ${check.error}`);
    });
  }

  it('NHWC model: matches finite differences', async () => {
    const { bytes, description } = await nhwcClassifier();
    const check = await checkAgainstFiniteDifferences(bytes, description, { loss: 'cross-entropy' });
    assert.ok(check.error <= 1e-3, `error ${check.error}`);
  });

  for (const [loss, kappa] of [
    ['cw-untargeted', 5],
    ['cw-targeted', 5],
    ['cw-targeted', 0.3],
    ['logit', 0],
  ] as const) {
    it(`${loss} with kappa ${kappa}: matches finite differences`, async () => {
      const { bytes, description } = await smallClassifier();
      const check = await checkAgainstFiniteDifferences(bytes, description, { loss, kappa });
      assert.ok(check.error <= 1e-3, `error ${check.error}`);
    });
  }

  it('refuses po-trip, which only tfjs surrogates differentiate, in one line', async () => {
    const { bytes, description } = await smallClassifier();
    const surrogate = await createOnnxSurrogate(bytes, description);
    try {
      await assert.rejects(
        async () =>
          surrogate.lossGradient(new Float32Array(75), Int32Array.from([1]), {
            loss: 'po-trip',
            trueLabels: Int32Array.from([0]),
          }),
        /^TransferbenchError: loss po-trip: not built into ONNX gradient graphs; use cross-entropy or logit/,
      );
    } finally {
      await surrogate.dispose();
    }
  });

  for (const kind of ['probabilities', 'log-probabilities'] as const) {
    it(
      `a model that outputs ${kind}: logits are log-probabilities and ` + `the gradient matches finite differences`,
      async () => {
        const h = new TinyGraph([2, 4, 4]);
        const flat = h.node('Flatten', [h.node('Tanh', ['x'])]);
        const scores = h.node('Gemm', [flat, h.weight([32, 5], 0.8)]);
        const out = h.node(kind === 'probabilities' ? 'Softmax' : 'LogSoftmax', [scores], { axis: int(1) });
        const { bytes, description } = h.asIs(out, 5);
        const d = { ...description, outputKind: kind };
        const check = await checkAgainstFiniteDifferences(bytes, d, { loss: 'cross-entropy' });
        assert.ok(check.error <= 1e-3, `error ${check.error}`);
        const surrogate = await createOnnxSurrogate(bytes, d);
        try {
          const logits = await surrogate.logits(new Float32Array(32).fill(0.3), 1);
          const total = logits.reduce((a, z) => a + Math.exp(z), 0);
          assert.ok(Math.abs(total - 1) < 1e-5, `exp(logits) sums to ${total}`);
        } finally {
          await surrogate.dispose();
        }
      },
    );
  }

  it(
    'losses equal their definitions on the returned logits; logits ' + 'equal the model run on preprocessed images',
    async () => {
      const { bytes, description } = await smallClassifier();
      const d = {
        ...description,
        inputRange: [0, 255] as [number, number],
        normalization: { mean: [120, 110, 100], std: [60, 50, 70] },
      };
      const surrogate = await createOnnxSurrogate(bytes, d);
      const random = new Random(3);
      const count = 5;
      const images = Float32Array.from({ length: count * 75 }, () => random.next());
      const labels = Int32Array.from({ length: count }, () => random.int(4));
      try {
        const ce = await surrogate.lossGradient(images, labels, { loss: 'cross-entropy' });
        const cw = await surrogate.lossGradient(images, labels, { loss: 'cw-untargeted', kappa: 0.5 });
        const cwt = await surrogate.lossGradient(images, labels, { loss: 'cw-targeted', kappa: 0.5 });
        const logit = await surrogate.lossGradient(images, labels, { loss: 'logit' });
        for (let i = 0; i < count; i++) {
          const z = ce.logits.subarray(i * 4, i * 4 + 4);
          const y = labels[i] as number;
          assert.ok(Math.abs((logit.loss[i] as number) + (z[y] as number)) < 1e-5);
          assert.ok(Math.abs((ce.loss[i] as number) + Math.log(softmax(z)[y] as number)) < 1e-5);
          const margin = (z[y] as number) - Math.max(...Array.from(z).filter((_, j) => j !== y));
          assert.ok(Math.abs((cw.loss[i] as number) - Math.max(margin, -0.5)) < 1e-5);
          assert.ok(Math.abs((cwt.loss[i] as number) - Math.max(-margin, -0.5)) < 1e-5);
          // The clamp's side gets no gradient.
          if (-margin < -0.5) assert.ok(cwt.gradient.subarray(i * 75, (i + 1) * 75).every((v) => v === 0));
        }
        // The original model on hand-preprocessed NCHW input gives the same logits.
        const nchw = new Float32Array(images.length);
        for (let n = 0; n < count; n++)
          for (let p = 0; p < 25; p++)
            for (let c = 0; c < 3; c++) {
              nchw[n * 75 + c * 25 + p] =
                ((images[n * 75 + p * 3 + c] as number) * 255 - [120, 110, 100][c]!) / [60, 50, 70][c]!;
            }
        const session = await ort.InferenceSession.create(bytes);
        const raw = (await session.run({ x: new ort.Tensor('float32', nchw, [count, 3, 5, 5]) }))[d.outputName]
          ?.data as Float32Array;
        await session.release();
        raw.forEach((v, i) => assert.ok(Math.abs(v - (ce.logits[i] as number)) < 1e-4));
        assert.deepEqual(await surrogate.logits(images, count), ce.logits);
      } finally {
        await surrogate.dispose();
      }
    },
  );
});
