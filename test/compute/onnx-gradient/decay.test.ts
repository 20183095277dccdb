import assert from 'node:assert/strict';
import { createOnnxSurrogate } from '../../../src/compute/onnx-gradient/surrogate.js';
import type { FeatureTaps, Surrogate } from '../../../src/compute/surrogate.js';
import { TinyGraph, int } from './tiny-graph.js';

/**
 * A 2x2 one-channel model whose every weight is known: u = 2x - 1 (the description's normalisation),
 * h = Relu(k u + b) (the layer), t = tanh(h), logits = t W + c, so the decayed pass can be computed by hand.
 */
const K = [1.5, -0.5, 0.8, 1.2];
const B = [0.1, 0.3, -0.2, 0.05];
const W = [0.4, -0.7, 0.2, 0.9, 0.1, -0.3, -0.5, 0.6, 0.8, 0.3, -0.2, -0.4];
const C = [0.05, -0.1, 0.2];

async function handModel() {
  const g = new TinyGraph([1, 2, 2]);
  const scaled = g.node('Mul', ['x', g.floats([1, 2, 2], K)]);
  const layer = g.node('Relu', [g.node('Add', [scaled, g.floats([1, 2, 2], B)])]);
  const flat = g.node('Flatten', [g.node('Tanh', [layer])], { axis: int(1) });
  const logits = g.node('Gemm', [flat, g.floats([4, 3], W), g.floats([3], C)]);
  return { ...g.asIs(logits, 3), layer };
}

const layerAt = (x: number[]) => x.map((v, p) => Math.max(0, (K[p] as number) * (2 * v - 1) + (B[p] as number)));

/** Logits, and d(cross-entropy)/dx, of the pass whose layer is gamma h(x) + (1 - gamma) reference, by hand. */
function byHand(x: number[], label: number, gamma: number, reference: number[]) {
  const h = layerAt(x);
  const t = h.map((v, p) => Math.tanh(gamma * v + (1 - gamma) * (reference[p] as number)));
  const z = [0, 1, 2].map((j) => t.reduce((s, v, p) => s + v * (W[p * 3 + j] as number), C[j] as number));
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  const dz = e.map((v, j) => v / sum - (j === label ? 1 : 0));
  const gradient = t.map((v, p) => {
    const dt = dz.reduce((s, d, j) => s + d * (W[p * 3 + j] as number), 0);
    const pre = (K[p] as number) * (2 * (x[p] as number) - 1) + (B[p] as number);
    return dt * (1 - v * v) * gamma * (pre > 0 ? 1 : 0) * (K[p] as number) * 2;
  });
  return { logits: z, gradient };
}

describe('decayed forward pass (ILPD, ONNX surrogate)', () => {
  let surrogate: Surrogate;
  let taps: FeatureTaps;
  let layer: string;
  // Pixels that keep every pre-activation away from Relu's kink, two images.
  const x = [0.9, 0.2, 0.7, 0.8, 0.6, 0.1, 0.95, 0.55];
  const labels = Int32Array.from([1, 2]);
  const clean = [0.85, 0.25, 0.6, 0.75, 0.5, 0.15, 0.9, 0.65];
  const request = { loss: 'cross-entropy' } as const;

  before(async () => {
    const model = await handModel();
    layer = model.layer;
    surrogate = await createOnnxSurrogate(model.bytes, model.description);
    taps = surrogate.taps as FeatureTaps;
  });
  after(async () => surrogate.dispose());

  const decayed = (images: number[], gamma: number, reference?: number[]) =>
    (taps.decayedLossGradient as NonNullable<FeatureTaps['decayedLossGradient']>)(
      Float32Array.from(images),
      labels,
      request,
      { layer, gamma, ...(reference ? { reference: Float32Array.from(reference) } : {}) },
    );

  it("gives the hand's logits and gradient: h(x), the decay towards h(clean), the rest of the net", async () => {
    const reference = [...layerAt(clean.slice(0, 4)), ...layerAt(clean.slice(4))];
    const out = await decayed(x, 0.3, reference);
    const own = [...layerAt(x.slice(0, 4)), ...layerAt(x.slice(4))];
    own.forEach((v, k) => assert.ok(Math.abs((out.feature[k] as number) - v) < 1e-6, `feature ${k}`));
    for (let i = 0; i < 2; i++) {
      const hand = byHand(x.slice(4 * i, 4 * i + 4), labels[i] as number, 0.3, reference.slice(4 * i, 4 * i + 4));
      hand.logits.forEach((v, j) => assert.ok(Math.abs((out.logits[3 * i + j] as number) - v) < 1e-5, `logit ${j}`));
      hand.gradient.forEach((v, p) =>
        assert.ok(
          Math.abs((out.gradient[4 * i + p] as number) - v) < 1e-5,
          `pixel ${p}: ${out.gradient[4 * i + p]} vs ${v}`,
        ),
      );
    }
  });

  it('gamma 1 (no decay) is the plain loss gradient, bit for bit', async () => {
    const reference = Array.from({ length: 8 }, (_, k) => k / 8);
    const out = await decayed(x, 1, reference);
    const plain = await surrogate.lossGradient(Float32Array.from(x), labels, request);
    assert.deepEqual(out.logits, plain.logits);
    assert.deepEqual(out.loss, plain.loss);
    assert.deepEqual(out.gradient, plain.gradient);
  });

  it("gamma 0 cuts the images off: a zero gradient, and the reference's own logits", async () => {
    const reference = (await decayed(clean, 1)).feature;
    const out = await decayed(x, 0, Array.from(reference));
    assert.ok(
      out.gradient.every((v) => v === 0),
      Array.from(out.gradient).join(),
    );
    const cleanLogits = await surrogate.logits(Float32Array.from(clean), 2);
    out.logits.forEach((v, k) => assert.ok(Math.abs(v - (cleanLogits[k] as number)) < 1e-6));
  });

  it('refuses an unknown layer and a reference of the wrong size, each in one line', async () => {
    await assert.rejects(
      (taps.decayedLossGradient as NonNullable<FeatureTaps['decayedLossGradient']>)(
        Float32Array.from(x),
        labels,
        request,
        { layer: 'no-such-layer', gamma: 0.1 },
      ),
      new RegExp(
        '^TransferbenchError: layer: got "no-such-layer", expected a float ' +
          'value of the model between its input and its output \\(\\d+ ' +
          'candidates, listed by targets inspect: [^\\n]*\\)$',
      ),
    );
    await assert.rejects(
      decayed(x, 0.1, [1, 2, 3]),
      /^TransferbenchError: reference: got "3 values", expected 2 features of 4 values$/,
    );
  });
});
