import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  craftAdversarial,
  drive,
  randomTarget,
  resolveParams,
  ATTACKS,
  targetClasses,
} from '../../src/attacks/index.js';
import { useBackend } from '../../src/compute/backend.js';
import { EnsembleSurrogate } from '../../src/compute/ensemble-surrogate.js';
import { images, linearModel } from './fixtures.js';

describe('targeted transfer', () => {
  const shape: [number, number, number] = [4, 4, 1];
  let fixture: ReturnType<typeof linearModel>;
  let x: Float32Array;
  const labels = Int32Array.from([0, 1, 2, 3, 4, 0]);
  const ids = [10, 11, 12, 13, 14, 15];

  before(async () => {
    await useBackend('wasm');
    fixture = linearModel(shape, 5, 4);
    x = tf.tidy(() => images(6, shape, 2, 0.3, 0.7).dataSync() as Float32Array);
  });
  after(() => fixture.dispose());

  describe('target classes', () => {
    it('random: never the true class, the same per image id whatever the batch, from the seed', async () => {
      const request = { images: x, trueLabels: labels, ids, classes: 5, seed: 7 };
      const all = await drive(fixture.surrogate, targetClasses('random', request));
      all.forEach((t, i) => assert.notEqual(t, labels[i]));
      const alone = randomTarget(labels[3] as number, ids[3] as number, 5, 7);
      assert.equal(all[3], alone);
      const counts = new Array(5).fill(0);
      for (let id = 0; id < 2000; id++) counts[randomTarget(0, id, 5, 7)]++;
      assert.equal(counts[0], 0);
      // Uniform over the four other classes: each within 20% of 500.
      for (const n of counts.slice(1)) assert.ok(n > 400 && n < 600, `counts ${counts}`);
      const other = await drive(fixture.surrogate, targetClasses('random', { ...request, seed: 8 }));
      assert.notDeepEqual(other, all);
    });

    it("least-likely: the class of each image's lowest surrogate logit", async () => {
      const targets = await drive(
        fixture.surrogate,
        targetClasses('least-likely', { images: x, trueLabels: labels, ids, classes: 5, seed: 0 }),
      );
      const logits = await fixture.surrogate.logits(x, 6);
      targets.forEach((t, i) => {
        const row = Array.from(logits.subarray(i * 5, i * 5 + 5));
        assert.equal(t, row.indexOf(Math.min(...row)));
      });
    });

    it('csv: the dataset column, or a one-line error naming targetClass', async () => {
      const csvTargets = Int32Array.from([4, 3, 2, 1, 0, 1]);
      const base = { images: x, trueLabels: labels, ids, classes: 5, seed: 0 };
      assert.deepEqual(await drive(fixture.surrogate, targetClasses('csv', { ...base, csvTargets })), csvTargets);
      await assert.rejects(
        drive(fixture.surrogate, targetClasses('csv', base)),
        /^TransferbenchError: targetClass: "csv" needs a dataset with a targeted_label column/,
      );
    });
  });

  describe('losses', () => {
    it('targeted cross-entropy towards the true label steps exactly against the untargeted step', async () => {
      const request = { images: x, trueLabels: labels, ids, eps: 0.05, labelSource: 'true' as const };
      const away = await craftAdversarial('fgsm', fixture.surrogate, request);
      const towards = await craftAdversarial('fgsm', fixture.surrogate, {
        ...request,
        targetLabels: labels,
        params: { targeted: true },
      });
      let moved = 0;
      for (let i = 0; i < x.length; i++) {
        const up = (away[i] as number) - (x[i] as number);
        const down = (towards[i] as number) - (x[i] as number);
        assert.ok(Math.abs(up + down) < 1e-6, `pixel ${i}: ${up} vs ${down}`);
        if (Math.abs(up) > 0) moved++;
      }
      assert.ok(moved > x.length / 2);
    });

    it('logit: loss -z_y with gradient -W[:, y] on a linear model, in tfjs and in the ensemble', async () => {
      const target = Int32Array.from([2, 2, 0, 1, 4, 3]);
      const { loss, gradient, logits } = await fixture.surrogate.lossGradient(x, target, { loss: 'logit' });
      const w = fixture.weights.arraySync();
      target.forEach((y, i) => {
        assert.ok(Math.abs((loss[i] as number) + (logits[i * 5 + y] as number)) < 1e-5);
        for (let p = 0; p < 16; p++)
          assert.ok(Math.abs((gradient[i * 16 + p] as number) + (w[p]?.[y] as number)) < 1e-5);
      });
      const ensemble = EnsembleSurrogate.of('one', [fixture.surrogate]);
      const viaEnsemble = await ensemble.lossGradient(x, target, { loss: 'logit' });
      viaEnsemble.gradient.forEach((g, i) => assert.ok(Math.abs(g - (gradient[i] as number)) < 1e-5));
    });

    it(
      "po-trip: Li et al.'s Poincare distance plus 0.01 triplet, as a direct " + 'computation; tfjs and ensemble agree',
      async () => {
        const target = Int32Array.from([2, 2, 0, 1, 4, 3]);
        const { loss, logits, gradient } = await fixture.surrogate.lossGradient(x, target, {
          loss: 'po-trip',
          trueLabels: labels,
        });
        target.forEach((t, i) => {
          const z = Array.from(logits.subarray(i * 5, i * 5 + 5));
          const l1 = z.reduce((a, v) => a + Math.abs(v), 0);
          const u = z.map((v) => v / l1);
          const v = z.map((_, k) => Math.min(1, Math.max(0, (k === t ? 1 : 0) - 1e-5)));
          const sq = (a: number[]) => a.reduce((s2, e) => s2 + e * e, 0);
          const theta = (2 * sq(u.map((e, k) => e - (v[k] as number)))) / ((1 - sq(u)) * (1 - sq(v)));
          const poincare = Math.acosh(1 + theta);
          const cosine = (k: number) => Math.abs(z[k] as number) / Math.sqrt(sq(z));
          const triplet = Math.min(2.1, Math.max(0, cosine(t) - cosine(labels[i] as number) + 0.007));
          const expected = poincare + 0.01 * triplet;
          // float32 against double: 1 - |v|^2 is 2e-5, so theta carries float32's error times 5e4.
          assert.ok(
            Math.abs((loss[i] as number) - expected) < 1e-3 * Math.max(1, expected),
            `${loss[i]} vs ${expected}`,
          );
        });
        const ensemble = EnsembleSurrogate.of('one', [fixture.surrogate]);
        const viaEnsemble = await ensemble.lossGradient(x, target, { loss: 'po-trip', trueLabels: labels });
        viaEnsemble.gradient.forEach((g, i) => assert.ok(Math.abs(g - (gradient[i] as number)) < 1e-4));
        await assert.rejects(
          fixture.surrogate.lossGradient(x, target, { loss: 'po-trip' }),
          /loss po-trip: needs trueLabels, one per image \(6\)/,
        );
      },
    );

    it('po-trip drives a targeted MI-FGSM towards its targets (the target logit rises on every image)', async () => {
      const targets = Int32Array.from([2, 2, 0, 1, 4, 3]);
      const request = { images: x, trueLabels: labels, ids, eps: 0.3, labelSource: 'true' as const };
      const adversarial = await craftAdversarial('di-mi-fgsm', fixture.surrogate, {
        ...request,
        targetLabels: targets,
        params: { targeted: true, steps: 10, loss: 'po-trip' },
      });
      const before = await fixture.surrogate.logits(x, 6);
      const after = await fixture.surrogate.logits(adversarial, 6);
      targets.forEach((t, i) => assert.ok((after[i * 5 + t] as number) > (before[i * 5 + t] as number), `image ${i}`));
    });

    it("the logit attack: TransferAttack's targeted schedule (300 steps of 2/255, MI-DI-TI)", () => {
      const attack = ATTACKS.get('logit');
      const params = resolveParams(attack, 16 / 255);
      assert.equal(params.steps, 300);
      assert.equal(params.stepSize, 2 / 255);
      assert.equal(params.loss, 'logit');
      assert.equal(params.decay, 1);
      assert.deepEqual(attack.composition?.transforms, ['di', 'ti']);
    });

    it(
      'the logit attack with the whole box as budget reaches the maximum of ' + 'z_t: pixel p at 1 where W[p, t] > 0',
      async () => {
        const targets = Int32Array.from([2, 2, 0, 1, 4, 3]);
        const adversarial = await craftAdversarial('logit', fixture.surrogate, {
          images: x,
          trueLabels: labels,
          ids,
          eps: 1,
          labelSource: 'true',
          targetLabels: targets,
          // DI and TI off: on a linear model the gradient's sign alone decides the known answer.
          params: { targeted: true, steps: 20, stepSize: 0.1, diversityProb: 0, kernelSize: 1 },
        });
        const w = fixture.weights.arraySync();
        targets.forEach((t, i) => {
          for (let p = 0; p < 16; p++)
            assert.equal(adversarial[i * 16 + p], (w[p]?.[t] as number) > 0 ? 1 : 0, `image ${i} pixel ${p}`);
        });
      },
    );
  });
});
