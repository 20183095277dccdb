import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { TfjsSurrogate } from '../../src/compute/tfjs-surrogate.js';
import type { Surrogate } from '../../src/compute/surrogate.js';
import { Random } from '../../src/common/random.js';
import { runQueryAttack } from '../../src/query-attacks/index.js';
import { surrogateChannels } from '../../src/query-attacks/surrogate-channels.js';
import { linearSurrogate, perturbedLinear, useLinearTarget, type Linear } from './fixtures.js';

describe('query attacks: hybrids guided by the harness surrogates', () => {
  it(
    "a logit weighting's gradient is the same by a vector-Jacobian product " + 'and by per-class logit losses',
    async () => {
      const model = tf.sequential({
        layers: [
          tf.layers.flatten({ inputShape: [4, 4, 1] }),
          tf.layers.dense({
            units: 6,
            activation: 'tanh',
            kernelInitializer: tf.initializers.randomNormal({ seed: 1 }),
          }),
          tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.randomNormal({ seed: 2 }) }),
        ],
      });
      const before = tf.memory().numTensors;
      const withVjp = TfjsSurrogate.fromLayersModel('tiny', model);
      // The same model seen only through the Surrogate interface (no logitsGradient): the per-class fallback.
      const plain: Surrogate = {
        name: 'tiny-plain',
        imageShape: withVjp.imageShape,
        classes: 3,
        logits: (images, count) => withVjp.logits(images, count),
        lossGradient: (images, labels, request) => withVjp.lossGradient(images, labels, request),
        dispose: async () => undefined,
      };
      const random = new Random(4);
      const requests = Array.from({ length: 3 }, (_, i) => ({
        image: Float32Array.from({ length: 16 }, () => random.next()),
        weights: Float32Array.from({ length: 3 }, () => 2 * random.next() - 1),
        model: i % 2,
      }));
      const [a, b] = await Promise.all(
        [
          [withVjp, withVjp],
          [plain, plain],
        ].map((pair) => surrogateChannels('test', pair, 16, 3).logitGradient.serve(requests)),
      );
      (a as Float32Array[]).forEach((g, i) =>
        g.forEach((v, j) => assert.ok(Math.abs(v - ((b as Float32Array[])[i]?.[j] as number)) < 1e-5, `${i}, ${j}`)),
      );
      assert.ok((a as Float32Array[]).every((g) => g.some((v) => v !== 0)));
      assert.equal(tf.memory().numTensors, before, 'no tensor left');
      model.dispose();
    },
  );

  describe('on a linear softmax target', () => {
    const t = useLinearTarget(24, 31);
    // A surrogate that knows nothing of the target: random weights of the same scale.
    const unrelated = (seed: number): Linear => ({
      ...t.model,
      weights: perturbedLinear(t.model, 1, seed).weights.map((w, i) => w - (t.model.weights[i] as number)),
    });
    for (const attack of ['simba-ods', 'gfcs', 'bases', 'subspace']) {
      it(
        `${attack}: the target's own model as surrogate fools more images within 30 queries ` + 'than an unrelated one',
        async () => {
          const fooled = async (surrogates: Surrogate[]) => {
            const outcome = await runQueryAttack({
              attack,
              oracle: t.target('probabilities').withImageBudget(30),
              images: t.images,
              labels: t.labels,
              ids: t.ids,
              eps: 0.1,
              norm: 'linf',
              seed: 6,
              surrogates,
            });
            return outcome.images.filter((i) => i.success).length;
          };
          const exact = await fooled([linearSurrogate(t.model, t.shape), linearSurrogate(unrelated(2), t.shape)]);
          const blind = await fooled([linearSurrogate(unrelated(3), t.shape), linearSurrogate(unrelated(4), t.shape)]);
          assert.ok(exact > blind, `${exact} fooled with the target's model among the surrogates, ${blind} without`);
        },
      );
    }
  });
});
