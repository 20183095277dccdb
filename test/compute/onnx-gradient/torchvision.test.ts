import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createOnnxSurrogate } from '../../../src/compute/onnx-gradient/index.js';
import { loadTarget } from '../../../src/targets/descriptor.js';
import { gradientDescriptionOf } from '../../../src/targets/onnx/gradient-description.js';
import { loadTorchFixtures, normwiseRelativeError, TORCHVISION_FIXTURES } from '../../fixtures/torch-cases.js';

/** PyTorch autograd (float64) against onnxruntime's generated backward pass (float32). */
const TOLERANCE = 1e-4;
/** One fixture per architecture family torchvision 0.14 ships (bench/torchvision_fixtures.py). */
const ARCHITECTURES = [
  'alexnet',
  'convnext',
  'densenet',
  'efficientnet-b0',
  'efficientnet-v2',
  'googlenet',
  'inception-v3',
  'maxvit',
  'mnasnet',
  'mobilenet-v2',
  'mobilenet-v3-large',
  'mobilenet-v3-small',
  'regnet-x',
  'regnet-y',
  'resnet-basic',
  'resnet-bottleneck',
  'resnext',
  'shufflenet-v2',
  'squeezenet-1.0',
  'squeezenet-1.1',
  'swin',
  'swin-v2',
  'vgg',
  'vgg-bn',
  'vit',
  'wide-resnet',
];

describe('ONNX gradient builder against PyTorch on torchvision 0.14 architectures (opsets 13 and 17)', () => {
  if (!existsSync(TORCHVISION_FIXTURES)) {
    it('skipped: test/fixtures/torchvision/ is absent (.ci/run writes it with python3 bench/torchvision_fixtures.py)');
    return;
  }
  const fixtures = loadTorchFixtures(TORCHVISION_FIXTURES);

  it('has one fixture per architecture, each exported at opsets 13 and 17', () => {
    assert.deepEqual(fixtures.map((f) => f.name).sort(), ARCHITECTURES);
    for (const f of fixtures)
      assert.deepEqual(
        f.descriptorPaths.map((p) => p.replace(/.*target-/, '')),
        ['opset13.json', 'opset17.json'],
      );
  });

  for (const fixture of fixtures) {
    for (const descriptorPath of fixture.descriptorPaths) {
      const opset = descriptorPath.replace(/.*target-opset(\d+)\.json$/, '$1');
      it(
        `${fixture.name}, opset ${opset}: cross-entropy input gradient within ${TOLERANCE} ` +
          `(${fixture.description})`,
        async () => {
          const target = loadTarget(descriptorPath);
          const surrogate = await createOnnxSurrogate(
            readFileSync(target.modelPath),
            gradientDescriptionOf(target.descriptor),
            {
              name: fixture.name,
            },
          );
          try {
            for (const batch of fixture.cases) {
              const expected = batch.losses[0];
              assert.ok(expected?.loss === 'cross-entropy');
              const nonzero = expected.gradient.filter((g) => g !== 0).length;
              assert.ok(
                nonzero >= expected.gradient.length / 2,
                `reference gradient nonzero at only ${nonzero} pixels`,
              );
              const actual = await surrogate.lossGradient(batch.images, batch.labels, { loss: 'cross-entropy' });
              const errors = {
                logits: normwiseRelativeError(actual.logits, batch.logits),
                loss: normwiseRelativeError(actual.loss, expected.values),
                gradient: normwiseRelativeError(actual.gradient, expected.gradient),
              };
              const report = Object.entries(errors)
                .map(([k, v]) => `${k} ${v.toExponential(2)}`)
                .join(', ');
              assert.ok(
                Object.values(errors).every((e) => e <= TOLERANCE),
                report,
              );
            }
          } finally {
            await surrogate.dispose();
          }
        },
      );
    }
  }
});
