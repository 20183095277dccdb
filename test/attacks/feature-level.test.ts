import type { LoopParams } from '../../src/attacks/gradient-loop.js';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { craftAdversarial, drive, resolveParams, ATTACKS } from '../../src/attacks/index.js';
import { ilaFromDirection } from '../../src/attacks/ila.js';
import { signOf } from '../../src/attacks/gradient-loop.js';
import { useBackend } from '../../src/compute/backend.js';
import { ints } from '../../src/compute/onnx-gradient/ir.js';
import { createOnnxSurrogate } from '../../src/compute/onnx-gradient/surrogate.js';
import type { FeatureTaps, Surrogate } from '../../src/compute/surrogate.js';
import { TinyGraph } from '../compute/onnx-gradient/tiny-graph.js';
import { images, tinyCnn } from './fixtures.js';

describe('feature-level attacks (FIA, ILA)', () => {
  const eps = 0.05;
  const labels = Int32Array.from([0, 1, 2, 1]);
  const ids = [1, 2, 3, 4];
  let surrogate: Surrogate;
  let relu: string;
  let x: Float32Array;

  before(async () => {
    await useBackend('wasm');
    const g = new TinyGraph([1, 8, 8], 13, 6);
    const conv = g.node('Conv', ['x', g.weight([4, 1, 3, 3]), g.weight([4], 0.1)], { pads: ints([1, 1, 1, 1]) });
    relu = g.node('Relu', [conv]);
    const model = await g.classifier(g.node('Tanh', [relu]), 3);
    surrogate = await createOnnxSurrogate(model.bytes, model.description);
    x = tf.tidy(() => images(4, [8, 8, 1], 9, 0.2, 0.8).dataSync() as Float32Array);
  });
  after(async () => surrogate.dispose());

  const request = (params: Record<string, unknown>) => ({
    images: x,
    trueLabels: labels,
    ids,
    eps,
    labelSource: 'true' as const,
    params: { layer: relu, ...params },
  });

  it("FIA's defaults are TransferAttack's (10 steps of eps/10, decay 1, 30 copies, drop rate 0.3)", () => {
    const params = resolveParams(ATTACKS.get('fia'), 16 / 255, { layer: relu });
    assert.deepEqual([params.steps, params.decay, params.ensembles, params.dropRate], [10, 1, 30, 0.3]);
    assert.ok(Math.abs((params.stepSize as number) - 1.6 / 255) < 1e-12);
  });

  it(
    'FIA, one step by hand: the normalised negated d z_y / d feature as ' + 'weights, a signed step along its gradient',
    async () => {
      const adversarial = await craftAdversarial(
        'fia',
        surrogate,
        request({ steps: 1, stepSize: eps, decay: 0, ensembles: 1, dropRate: 0 }),
      );
      const taps = surrogate.taps as FeatureTaps;
      const tap = await taps.featureGradient(x, labels, relu, { loss: 'cross-entropy' });
      // d z_y / d feature from the logit loss -z_y, by hand from the tap: negate, normalise per image, negate again.
      const own = await taps.featureGradient(x, labels, relu, { loss: 'logit' });
      const per = own.gradient.length / 4;
      const weights = Float32Array.from(own.gradient);
      for (let i = 0; i < 4; i++) {
        const norm = Math.sqrt(weights.subarray(i * per, (i + 1) * per).reduce((s, v) => s + v * v, 0)) + 1e-12;
        for (let k = i * per; k < (i + 1) * per; k++) weights[k] = (weights[k] as number) / norm;
      }
      assert.equal(tap.feature.length, weights.length);
      const objective = await taps.featureObjectiveGradient(x, { layer: relu, weights });
      let moved = 0;
      for (let p = 0; p < x.length; p++) {
        const expected = Math.min(
          1,
          Math.max(0, Math.fround((x[p] as number) + signOf(objective.gradient[p] as number) * eps)),
        );
        assert.ok(Math.abs((adversarial[p] as number) - expected) < 1e-6, `pixel ${p}`);
        if (expected !== x[p]) moved++;
      }
      assert.ok(moved > 0);
    },
  );

  it(
    'NAA, one step by hand: weights d(-z_y)/d feature at the image itself ' + '(one path point), from the black image',
    async () => {
      const adversarial = await craftAdversarial(
        'naa',
        surrogate,
        request({ steps: 1, stepSize: eps, decay: 0, ensembles: 1 }),
      );
      const taps = surrogate.taps as FeatureTaps;
      const weights = (await taps.featureGradient(x, labels, relu, { loss: 'logit' })).gradient;
      const black = (await taps.featureGradient(new Float32Array(x.length), labels, relu, { loss: 'logit' })).feature;
      const objective = await taps.featureObjectiveGradient(x, { layer: relu, weights, reference: black });
      for (let p = 0; p < x.length; p++) {
        const expected = Math.min(
          1,
          Math.max(0, Math.fround((x[p] as number) + signOf(objective.gradient[p] as number) * eps)),
        );
        assert.ok(Math.abs((adversarial[p] as number) - expected) < 1e-6, `pixel ${p}`);
      }
    },
  );

  it('ILA with a zero direction does nothing', async () => {
    const params = resolveParams(ATTACKS.get('ila'), eps, { layer: relu });
    const clean = (await (surrogate.taps as FeatureTaps).featureGradient(x, labels, relu, { loss: 'cross-entropy' }))
      .feature;
    const out = await drive(
      surrogate,
      ilaFromDirection(
        { images: x, imageShape: [8, 8, 1], labels, ids },
        params as unknown as LoopParams,
        relu,
        clean,
        new Float32Array(clean.length),
      ),
    );
    assert.deepEqual(out, x);
  });

  it("ILA moves the layer's value further along the baseline's change than the baseline did", async () => {
    const baseline = await craftAdversarial('i-fgsm', surrogate, { ...request({}), params: {} });
    const ila = await craftAdversarial('ila', surrogate, request({}));
    const taps = surrogate.taps as FeatureTaps;
    const at = async (images: Float32Array) =>
      (await taps.featureGradient(images, labels, relu, { loss: 'cross-entropy' })).feature;
    const [f0, fb, fi] = [await at(x), await at(baseline), await at(ila)];
    const direction = fb.map((v, k) => v - (f0[k] as number));
    const projection = (f: Float32Array) =>
      f.reduce((s, v, k) => s + (v - (f0[k] as number)) * (direction[k] as number), 0);
    assert.ok(projection(fi) > projection(fb), `${projection(fi)} vs ${projection(fb)}`);
  });

  it('refuses a missing layer and a surrogate without taps, each in one line', async () => {
    await assert.rejects(
      craftAdversarial('fia', surrogate, { ...request({}), params: {} }),
      new RegExp(
        "^TransferbenchError: fia: layer: name the surrogate's layer " +
          '\\(`transferbench targets inspect MODEL.onnx` lists them\\)$',
      ),
    );
    const tfjs = tinyCnn();
    try {
      await assert.rejects(
        craftAdversarial('ila', tfjs.surrogate, request({})),
        new RegExp(
          '^TransferbenchError: layer: surrogate tiny-cnn has no feature taps; ' +
            'the feature-level attacks \\(fia, naa, ila\\) need an ONNX surrogate',
        ),
      );
    } finally {
      tfjs.dispose();
    }
  });
});
