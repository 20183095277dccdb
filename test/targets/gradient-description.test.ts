import assert from 'node:assert/strict';
import type { TargetDescriptor } from '../../src/targets/descriptor.js';
import { gradientDescriptionOf } from '../../src/targets/onnx/gradient-description.js';

describe('gradientDescriptionOf', () => {
  it('carries what the gradient builder needs of a target descriptor, classes from the class names', () => {
    const descriptor: TargetDescriptor = {
      name: 'resnet',
      model: 'model.onnx',
      sha256: '0'.repeat(64),
      inputName: 'pixels',
      outputName: 'scores',
      layout: 'NCHW',
      inputShape: [3, 32, 32],
      inputRange: [0, 255],
      normalization: { mean: [125, 123, 114], std: [63, 62, 66] },
      outputKind: 'probabilities',
      classNames: ['a', 'b', 'c'],
      dataset: 'cifar10',
    };
    assert.deepEqual(gradientDescriptionOf(descriptor), {
      inputName: 'pixels',
      outputName: 'scores',
      layout: 'NCHW',
      inputShape: [3, 32, 32],
      inputRange: [0, 255],
      normalization: { mean: [125, 123, 114], std: [63, 62, 66] },
      outputKind: 'probabilities',
      classes: 3,
    });
  });
});
