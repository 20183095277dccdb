import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ATTACKS, craftAdversarial, resolveParams } from '../../src/attacks/index.js';
import { signOf } from '../../src/attacks/gradient-loop.js';
import { noisyClean } from '../../src/attacks/ilpd.js';
import { useBackend } from '../../src/compute/backend.js';
import { EnsembleSurrogate } from '../../src/compute/ensemble-surrogate.js';
import { ints } from '../../src/compute/onnx-gradient/ir.js';
import { createOnnxSurrogate } from '../../src/compute/onnx-gradient/surrogate.js';
import type { FeatureTaps, Surrogate } from '../../src/compute/surrogate.js';
import { TinyGraph } from '../compute/onnx-gradient/tiny-graph.js';
import { images, tinyCnn } from './fixtures.js';

describe('ilpd', () => {
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

  it("takes TransferAttack's defaults (100 steps of 1/255, momentum 1, gamma 0.1, sigma 0.05)", () => {
    const p = resolveParams(ATTACKS.get('ilpd'), 16 / 255, { layer: relu });
    assert.deepEqual(
      [p.steps, p.stepSize, p.decay, p.perturbationDecay, p.referenceNoise, p.loss],
      [100, 1 / 255, 1, 0.1, 0.05, 'cross-entropy'],
    );
  });

  it('with gamma 1 (no decay) is MI-FGSM bit for bit', async () => {
    const schedule = { steps: 10, stepSize: eps / 10 };
    const ilpd = await craftAdversarial('ilpd', surrogate, request({ ...schedule, perturbationDecay: 1 }));
    const mi = await craftAdversarial('mi-fgsm', surrogate, { ...request({}), params: schedule });
    assert.deepEqual(ilpd, mi);
  });

  it('with gamma 0 leaves the images where they are (no gradient reaches them)', async () => {
    const out = await craftAdversarial('ilpd', surrogate, request({ steps: 3, perturbationDecay: 0 }));
    assert.deepEqual(out, x);
  });

  it('one step by hand: the gradient through the pass decayed towards the noisy clean image, signed', async () => {
    const gamma = 0.4;
    const params = resolveParams(ATTACKS.get('ilpd'), eps, { layer: relu, steps: 1, stepSize: eps, decay: 0 });
    const adversarial = await craftAdversarial(
      'ilpd',
      surrogate,
      request({ steps: 1, stepSize: eps, decay: 0, perturbationDecay: gamma }),
    );
    const batch = { images: x, imageShape: [8, 8, 1] as const, labels, ids };
    const noisy = noisyClean(batch, params as unknown as { seed: number; referenceNoise: number }, 0);
    assert.ok(noisy.some((v, k) => v !== x[k]));
    const decayed = (surrogate.taps as FeatureTaps).decayedLossGradient as NonNullable<
      FeatureTaps['decayedLossGradient']
    >;
    const request_ = { loss: 'cross-entropy' } as const;
    const reference = (await decayed(noisy, labels, request_, { layer: relu, gamma: 1 })).feature;
    const gradient = (await decayed(x, labels, request_, { layer: relu, gamma, reference })).gradient;
    let moved = 0;
    for (let p = 0; p < x.length; p++) {
      const expected = Math.min(1, Math.max(0, Math.fround((x[p] as number) + signOf(gradient[p] as number) * eps)));
      assert.equal(adversarial[p], expected, `pixel ${p}`);
      if (expected !== x[p]) moved++;
    }
    assert.ok(moved > 0);
  });

  it('refuses a missing or unknown layer, an ensemble and a tfjs surrogate, each in one line', async () => {
    await assert.rejects(
      craftAdversarial('ilpd', surrogate, { ...request({}), params: {} }),
      new RegExp(
        "^TransferbenchError: ilpd: layer: name the surrogate's layer " +
          '\\(`transferbench targets inspect MODEL.onnx` lists them\\)$',
      ),
    );
    await assert.rejects(
      craftAdversarial('ilpd', surrogate, request({ layer: 'conv9', steps: 1 })),
      new RegExp(
        '^TransferbenchError: layer: got "conv9", expected a float value of ' +
          'the model between its input and its output [^\\n]*$',
      ),
    );
    // Not disposed: an ensemble disposes its members, and this one's is the suite's surrogate.
    const ensemble = EnsembleSurrogate.of('pair', [surrogate, surrogate], 'loss');
    await assert.rejects(
      craftAdversarial('ilpd', ensemble, request({ steps: 1 })),
      new RegExp(
        '^TransferbenchError: layer: surrogate pair cannot decay a layer of ' +
          'its forward pass; ilpd needs an ONNX surrogate',
      ),
    );
    const tfjs = tinyCnn();
    try {
      await assert.rejects(
        craftAdversarial('ilpd', tfjs.surrogate, request({ steps: 1 })),
        new RegExp(
          '^TransferbenchError: layer: surrogate tiny-cnn cannot decay a layer ' +
            'of its forward pass; ilpd needs an ONNX surrogate \\(a trained ' +
            'substitute or the pretrained strategy\\), not an ensemble or a tfjs ' +
            'model$',
        ),
      );
    } finally {
      tfjs.dispose();
    }
  });
});
