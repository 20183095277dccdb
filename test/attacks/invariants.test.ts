import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  ATTACKS,
  craftAdversarial,
  perturbationNorms,
  resolvePoolLabels,
  TRANSFORMS,
  type LabelSource,
} from '../../src/attacks/index.js';
import { useBackend } from '../../src/compute/backend.js';
import { ints } from '../../src/compute/onnx-gradient/ir.js';
import { createOnnxSurrogate } from '../../src/compute/onnx-gradient/surrogate.js';
import type { Surrogate } from '../../src/compute/surrogate.js';
import { TinyGraph } from '../compute/onnx-gradient/tiny-graph.js';
import { images, linearModel, tinyCnn } from './fixtures.js';

/** Parameters that keep the slow attacks short on the fixture (the others run their defaults). */
const SHORT: Readonly<Record<string, Record<string, unknown>>> = {
  'cw-l2': { steps: 10, binarySearchSteps: 2 },
  advgan: { epochs: 1 },
  'vmi-fgsm': { neighbours: 3 },
  'vni-fgsm': { neighbours: 3 },
  fia: { ensembles: 3 },
  naa: { ensembles: 3 },
  ilpd: { steps: 10 },
};

/** Feature-level attacks read a layer through feature taps: they run on an ONNX tiny CNN, its Relu named. */
const FEATURE_LEVEL = new Set(['fia', 'naa', 'ila', 'ilpd']);

/** Conv -> Relu -> classifier on 8x8x1 (NCHW), as an ONNX surrogate with taps; `relu` is the layer they name. */
async function onnxTinyCnn(): Promise<{ surrogate: Surrogate; relu: string }> {
  const g = new TinyGraph([1, 8, 8], 13, 4);
  const conv = g.node('Conv', ['x', g.weight([4, 1, 3, 3]), g.weight([4], 0.1)], { pads: ints([1, 1, 1, 1]) });
  const relu = g.node('Relu', [conv]);
  const { bytes, description } = await g.classifier(g.node('Tanh', [relu]), 3);
  return { surrogate: await createOnnxSurrogate(bytes, description), relu };
}

/** Model-related attacks rewrite the surrogate's graph: they run on an ONNX residual CNN, its first Relu named. */
const MODEL_RELATED = new Set(['sgm', 'linbp', 'ghost']);

/** Conv -> Relu -> Conv with a skip Add -> Relu -> classifier on 8x8x1 (NCHW); `relu` is the block's first Relu. */
async function onnxResidualCnn(): Promise<{ surrogate: Surrogate; relu: string }> {
  const g = new TinyGraph([1, 8, 8], 13, 6);
  const stem = g.node('Conv', ['x', g.weight([4, 1, 3, 3]), g.weight([4], 0.1)], { pads: ints([1, 1, 1, 1]) });
  const relu = g.node('Relu', [stem]);
  const branch = g.node('Conv', [relu, g.weight([4, 4, 3, 3]), g.weight([4], 0.1)], { pads: ints([1, 1, 1, 1]) });
  const joined = g.node('Relu', [g.node('Add', [g.node('Relu', [branch]), relu])]);
  const { bytes, description } = await g.classifier(joined, 3);
  return { surrogate: await createOnnxSurrogate(bytes, description), relu };
}

interface Case {
  readonly attack: string;
  readonly transforms: readonly string[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly bound: 'linf' | 'l2';
}

/**
 * Every registered attack (methods and named compositions), every input transformation stacked
 * on every method that takes them, and the L2 variant of PGD: all from the registries, so a new
 * entry is tested without editing this file.
 */
const CASES: Case[] = [
  ...ATTACKS.names().map((attack) => ({ attack, transforms: [], params: SHORT[attack] ?? {}, bound: 'linf' as const })),
  ...ATTACKS.values()
    .filter((a) => a.transformable && a.composition === undefined)
    .flatMap((a) =>
      TRANSFORMS.names().map((t) => ({
        attack: a.name,
        transforms: [t],
        params: SHORT[a.name] ?? {},
        bound: 'linf' as const,
      })),
    ),
  { attack: 'pgd', transforms: [], params: { norm: 'l2', stepSize: 0.5 }, bound: 'l2' },
];

describe('attack invariants (every registered attack and composition)', () => {
  const eps = 0.1;
  const shape: [number, number, number] = [8, 8, 1];
  const size = 64;
  let fixture: ReturnType<typeof tinyCnn>;
  let x: Float32Array;
  const labels = Int32Array.from([0, 1, 2, 0, 1, 2]);
  const ids = [10, 11, 12, 13, 14, 15];
  // Fixed attacker images (AdvGAN fits on them, Admix mixes them in), so nothing depends on the batch.
  let pool: { images: Float32Array; labels: Int32Array };

  before(async () => {
    await useBackend('wasm');
    fixture = tinyCnn();
    onnx = await onnxTinyCnn();
    residual = await onnxResidualCnn();
    x = tf.tidy(() => images(6, shape, 21).dataSync() as Float32Array);
    pool = {
      images: tf.tidy(() => images(16, shape, 77).dataSync() as Float32Array),
      labels: Int32Array.from({ length: 16 }, (_, i) => i % 3),
    };
  });
  let onnx: Awaited<ReturnType<typeof onnxTinyCnn>>;
  let residual: Awaited<ReturnType<typeof onnxResidualCnn>>;
  after(async () => {
    fixture.dispose();
    await onnx.surrogate.dispose();
    await residual.surrogate.dispose();
  });
  const surrogateFor = (attack: string) =>
    FEATURE_LEVEL.has(attack) ? onnx.surrogate : MODEL_RELATED.has(attack) ? residual.surrogate : fixture.surrogate;
  const layerParams = (attack: string) =>
    FEATURE_LEVEL.has(attack) ? { layer: onnx.relu } : attack === 'linbp' ? { linbpLayer: residual.relu } : {};

  const craft = (
    c: Case,
    input: Float32Array,
    y: Int32Array,
    idList: number[],
    labelSource: LabelSource = 'true',
    seed = 5,
  ) =>
    craftAdversarial(c.attack, surrogateFor(c.attack), {
      images: input,
      trueLabels: y,
      ids: idList,
      eps: c.bound === 'l2' ? 1.0 : eps,
      labelSource,
      params: { ...c.params, seed, ...layerParams(c.attack) },
      transforms: c.transforms,
      pool,
    });

  for (const c of CASES) {
    const label = `${[c.attack, ...c.transforms].join('+')}${c.bound === 'l2' ? ' (L2)' : ''}`;

    it(`${label}: stays inside the eps-ball and [0, 1], and releases every tensor`, async () => {
      const before = tf.memory().numTensors;
      const values = await craft(c, x, labels, ids);
      assert.equal(tf.memory().numTensors, before, 'tensor leak');
      const norms = perturbationNorms(values, x, 6);
      const budget = c.bound === 'l2' ? 1.0 : eps;
      for (const n of c.bound === 'l2' ? norms.l2 : norms.linf)
        assert.ok(n <= budget + 1e-6, `${c.bound} norm ${n} > ${budget}`);
      for (const v of values) assert.ok(v >= 0 && v <= 1, `pixel ${v} outside [0, 1]`);
      assert.ok(
        norms.linf.some((n) => n > 0),
        'no image was perturbed at all',
      );
    });

    it(`${label}: is deterministic under a seed`, async () => {
      assert.deepEqual(await craft(c, x, labels, ids), await craft(c, x, labels, ids));
    });

    it(`${label}: gives the same images batched as one by one`, async () => {
      const whole = await craft(c, x, labels, ids);
      for (let k = 0; k < 6; k++) {
        const single = await craft(c, x.subarray(k * size, (k + 1) * size), labels.subarray(k, k + 1), [
          ids[k] as number,
        ]);
        for (let i = 0; i < size; i++) {
          assert.ok(
            Math.abs((single[i] as number) - (whole[k * size + i] as number)) <= 1e-5,
            `image ${k} pixel ${i}: ${single[i]} vs ${whole[k * size + i]}`,
          );
        }
      }
    });
  }

  it("labels pool images with the surrogate's predictions for any image shape", async () => {
    const other: [number, number, number] = [4, 6, 3];
    const linear = linearModel(other, 5, 9);
    const pixels = images(7, other, 12);
    const training = { images: pixels.dataSync() as Float32Array, labels: new Int32Array(7) };
    const resolved = await resolvePoolLabels(linear.surrogate, training, 'predicted');
    const expected = tf.tidy(() => linear.model(pixels).argMax(1).dataSync());
    assert.deepEqual(Array.from(resolved.labels), Array.from(expected));
    assert.equal(await resolvePoolLabels(linear.surrogate, training, 'true'), training);
    tf.dispose(pixels);
    linear.dispose();
  });

  it('answers an unknown attack or transformation with the registered names', async () => {
    await assert.rejects(
      craftAdversarial('deepfool', fixture.surrogate, { images: x, trueLabels: labels, ids, eps, labelSource: 'true' }),
      new RegExp(`unknown attack "deepfool"; known attacks: ${ATTACKS.names().join(', ')}`),
    );
    await assert.rejects(
      craftAdversarial('mi-fgsm', fixture.surrogate, {
        images: x,
        trueLabels: labels,
        ids,
        eps,
        labelSource: 'true',
        transforms: ['rotate'],
      }),
      /unknown transformation "rotate"; known transformations: di, ti, si, admix/,
    );
  });

  it('refuses transformations on an attack outside the gradient loop, and one listed twice', async () => {
    await assert.rejects(
      craftAdversarial('cw-l2', fixture.surrogate, {
        images: x,
        trueLabels: labels,
        ids,
        eps,
        labelSource: 'true',
        transforms: ['di'],
      }),
      /cw-l2: transforms: cw-l2 does not run the gradient loop/,
    );
    await assert.rejects(
      craftAdversarial('di-mi-fgsm', fixture.surrogate, {
        images: x,
        trueLabels: labels,
        ids,
        eps,
        labelSource: 'true',
        transforms: ['di'],
      }),
      /transforms: "di" is listed twice/,
    );
  });

  it('refuses eps outside [0, 1], a bad step count and a parameter the attack does not take, naming it', async () => {
    await assert.rejects(
      craftAdversarial('fgsm', fixture.surrogate, { images: x, trueLabels: labels, ids, eps: 2, labelSource: 'true' }),
      /fgsm: eps: got 2, expected a number in \[0, 1\]/,
    );
    await assert.rejects(
      craftAdversarial('bim', fixture.surrogate, {
        images: x,
        trueLabels: labels,
        ids,
        eps,
        labelSource: 'true',
        params: { steps: 0 },
      }),
      /bim: steps: got 0, expected an integer >= 1/,
    );
    await assert.rejects(
      craftAdversarial('fgsm', fixture.surrogate, {
        images: x,
        trueLabels: labels,
        ids,
        eps,
        labelSource: 'true',
        params: { decay: 1 },
      }),
      /fgsm: parameter "decay": got 1, expected no parameter \(it takes none\)/,
    );
    await assert.rejects(
      craftAdversarial('mi-fgsm', fixture.surrogate, {
        images: x,
        trueLabels: labels,
        ids,
        eps,
        labelSource: 'true',
        params: { kernelSize: 3 },
      }),
      /mi-fgsm: parameter "kernelSize": got 3, expected one of the parameters it takes: steps, stepSize, loss, decay/,
    );
    await assert.rejects(
      craftAdversarial('mi-fgsm', fixture.surrogate, {
        images: x,
        trueLabels: labels,
        ids,
        eps,
        labelSource: 'true',
        transforms: ['ti'],
        params: { kernelSize: 4 },
      }),
      /mi-fgsm\+ti: kernelSize: got 4, expected an odd integer >= 1/,
    );
  });

  it('uses the surrogate\'s prediction with labelSource "predicted" and the truth with "true"', async () => {
    const predicted = tf.tidy(
      () =>
        fixture
          .model(tf.tensor4d(x, [6, ...shape]))
          .argMax(1)
          .dataSync() as Int32Array,
    );
    const viaPredicted = await craftAdversarial('fgsm', fixture.surrogate, {
      images: x,
      trueLabels: labels,
      ids,
      eps,
      labelSource: 'predicted',
    });
    const viaTruthOfPrediction = await craftAdversarial('fgsm', fixture.surrogate, {
      images: x,
      trueLabels: Int32Array.from(predicted),
      ids,
      eps,
      labelSource: 'true',
    });
    assert.deepEqual(viaPredicted, viaTruthOfPrediction);
  });
});
