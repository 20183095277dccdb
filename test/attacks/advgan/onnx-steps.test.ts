import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  buildDiscriminator,
  buildGenerator,
  discriminatorNetwork,
  generatorNetwork,
} from '../../../src/attacks/advgan/networks.js';
import { OnnxGanSteps } from '../../../src/attacks/advgan/onnx-steps.js';
import { discriminatorLoss, generatorLoss } from '../../../src/attacks/advgan/steps.js';
import { drive } from '../../../src/attacks/index.js';
import { Random } from '../../../src/common/random.js';
import { useBackend } from '../../../src/compute/backend.js';
import { trainableVariables } from '../../../src/compute/train.js';
import { loadEmbeddedMnist, take } from '../../../src/data/index.js';
import { maxDifference, OPTIONS, SHAPE } from './fixtures.js';

/** tf.variableGrads of `loss` against the trainer's gradients, weight by weight. */
function assertSameGradients(
  label: string,
  ours: { loss: number; gradients: Float32Array[] },
  variables: tf.Variable[],
  loss: () => tf.Scalar,
): void {
  const reference = tf.variableGrads(loss, variables);
  try {
    const expectedLoss = reference.value.dataSync()[0] as number;
    assert.ok(
      Math.abs(ours.loss - expectedLoss) <= 1e-4 * Math.max(1, Math.abs(expectedLoss)),
      `${label} loss ${ours.loss} vs ${expectedLoss}`,
    );
    assert.equal(ours.gradients.length, variables.length, `${label}: every trainable variable has a gradient`);
    variables.forEach((v, i) => {
      const worst = maxDifference(
        ours.gradients[i] as Float32Array,
        reference.grads[v.name]?.dataSync() as Float32Array,
      );
      assert.ok(worst <= 1e-4, `${label} ${v.name}: max |difference| ${worst}`);
    });
  } finally {
    tf.dispose([reference.value, ...Object.values(reference.grads)]);
  }
}

describe('AdvGAN on the onnxruntime engine', () => {
  const digits = take(loadEmbeddedMnist(), 8);

  before(async () => {
    await useBackend('wasm');
  });

  it(
    "one generator step and one discriminator step give tfjs's weight " +
      'gradients on the same weights and batch (<= 1e-4)',
    async () => {
      const n = 8;
      // The ONNX networks and the tfjs definitions they were converted from hold the same seeded weights.
      const generator = buildGenerator(SHAPE, 4);
      const discriminator = buildDiscriminator(SHAPE, 4);
      const networks = [generatorNetwork(SHAPE, 4), discriminatorNetwork(SHAPE, 4)] as const;
      const steps = await OnnxGanSteps.create(...networks, SHAPE, OPTIONS, 1);
      try {
        const random = new Random(9);
        // A surrogate's gradient stand-in: any upstream d(L_adv)/d(adversarial) must chain the same way.
        const upstream = Float32Array.from({ length: n * 784 }, () => (random.next() - 0.5) / n);
        const adversarial = await drive(undefined as never, steps.generate(digits.images, n));
        const x = tf.tensor4d(digits.images, [n, ...SHAPE]);
        const fake = tf.tensor4d(adversarial, [n, ...SHAPE]);
        const up = tf.tensor4d(upstream, [n, ...SHAPE]);
        try {
          const generated = tf.tidy(() =>
            x.add((generator.apply(x) as tf.Tensor4D).mul(OPTIONS.eps)).clipByValue(0, 1),
          );
          assert.ok(maxDifference(adversarial, generated.dataSync()) <= 1e-5, "the generated images equal tfjs's");
          generated.dispose();
          const g = await steps.generatorGradients({ count: n, images: digits.images, upstream });
          assertSameGradients('generator', g, trainableVariables(generator), () =>
            generatorLoss(generator, discriminator, x, up, OPTIONS),
          );
          const d = await steps.discriminatorGradients({ count: n, images: digits.images, adversarial, upstream });
          assertSameGradients('discriminator', d, trainableVariables(discriminator), () =>
            discriminatorLoss(discriminator, x, fake),
          );
        } finally {
          tf.dispose([x, fake, up]);
        }
      } finally {
        await drive(undefined as never, steps.dispose());
        generator.dispose();
        discriminator.dispose();
      }
    },
  );
});
