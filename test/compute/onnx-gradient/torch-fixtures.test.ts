import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createOnnxSurrogate } from '../../../src/compute/onnx-gradient/index.js';
import type { Surrogate } from '../../../src/compute/surrogate.js';
import { loadTarget } from '../../../src/targets/descriptor.js';
import { gradientDescriptionOf } from '../../../src/targets/onnx/gradient-description.js';
import { loadTorchFixtures, normwiseRelativeError } from '../../fixtures/torch-cases.js';

/** PyTorch autograd (float64) against onnxruntime's generated backward pass (float32). */
const TOLERANCE = 1e-4;
const fixtures = loadTorchFixtures();

describe('ONNX gradient builder against PyTorch autograd (test/fixtures/torch, bench/torch_fixtures.py)', () => {
  it('has the six committed fixtures', () => {
    assert.deepEqual(fixtures.map((f) => f.name).sort(), [
      'avgpool',
      'depthwise-separable',
      'inception-concat',
      'mnist-cnn',
      'normalised-nchw',
      'residual-bn',
    ]);
  });

  for (const fixture of fixtures) {
    describe(`${fixture.name}: ${fixture.description}`, () => {
      let surrogate: Surrogate;
      before(async () => {
        const target = loadTarget(fixture.descriptorPath);
        surrogate = await createOnnxSurrogate(
          readFileSync(target.modelPath),
          gradientDescriptionOf(target.descriptor),
          { name: fixture.name },
        );
      });
      after(async () => surrogate?.dispose());

      for (const [k, batch] of fixture.cases.entries()) {
        it(`batch ${k} (${batch.count} images): logits within ${TOLERANCE}`, async () => {
          const logits = await surrogate.logits(batch.images, batch.count);
          assert.ok(
            normwiseRelativeError(logits, batch.logits) <= TOLERANCE,
            `logits error ${normwiseRelativeError(logits, batch.logits)}`,
          );
        });
        for (const expected of batch.losses) {
          it(
            `batch ${k}: ${expected.loss}${expected.loss === 'cross-entropy' ? '' : ` (kappa ${expected.kappa})`} ` +
              `loss and input gradient within ${TOLERANCE}`,
            async () => {
              const actual = await surrogate.lossGradient(batch.images, batch.labels, {
                loss: expected.loss,
                kappa: expected.kappa,
              });
              const errors = {
                logits: normwiseRelativeError(actual.logits, batch.logits),
                loss: normwiseRelativeError(actual.loss, expected.values),
                gradient: normwiseRelativeError(actual.gradient, expected.gradient),
              };
              assert.ok(
                errors.logits <= TOLERANCE && errors.loss <= TOLERANCE,
                `logits ${errors.logits.toExponential(2)}, loss ${errors.loss.toExponential(2)} > ${TOLERANCE}`,
              );
              assert.ok(
                errors.gradient <= TOLERANCE,
                `gradient: normwise relative error ${errors.gradient.toExponential(2)} > ${TOLERANCE}`,
              );
            },
          );
        }
      }
    });
  }

  it('would notice a wrong loss: the references of different losses are far apart', () => {
    for (const fixture of fixtures) {
      for (const batch of fixture.cases) {
        const [ce, untargeted, targeted] = batch.losses;
        assert.ok(ce && untargeted && targeted);
        assert.ok(
          normwiseRelativeError(untargeted.gradient, ce.gradient) > 100 * TOLERANCE,
          `${fixture.name}: C&W and cross-entropy gradients coincide`,
        );
        assert.ok(
          normwiseRelativeError(targeted.gradient, untargeted.gradient) > 100 * TOLERANCE,
          `${fixture.name}: the two C&W gradients coincide`,
        );
        // Some images are clamped at -kappa (zero gradient) and some are not, so the clamp is exercised.
        const size = batch.images.length / batch.count;
        const zero = (g: Float32Array, i: number) => g.subarray(i * size, (i + 1) * size).every((v) => v === 0);
        const clamped = [untargeted, targeted].map(
          (l) => Array.from({ length: batch.count }, (_, i) => zero(l.gradient, i)).filter(Boolean).length,
        );
        assert.ok(
          clamped.some((n) => n > 0 && n < batch.count),
          `${fixture.name}: no loss has both clamped and unclamped images`,
        );
      }
    }
  });
});
