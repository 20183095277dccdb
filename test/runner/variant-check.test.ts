import assert from 'node:assert/strict';
import { useBackend } from '../../src/compute/backend.js';
import { checkModelRelatedAttacks } from '../../src/runner/variant-check.js';
import { parseSuite } from '../../src/runner/suite.js';

const DATA = { imageShape: [28, 28, 1] as [number, number, number], classes: 10 };

function suiteWith(attacks: Record<string, unknown>[]) {
  return parseSuite(
    {
      name: 'model-related',
      dataset: 'mnist-embedded',
      seed: 0,
      evaluationSize: 100,
      targets: ['mlp'],
      oracle: { mode: 'probabilities' },
      substitutes: [{ strategy: 'ground-truth', architectures: ['cnn-small', 'resnet8'], budgets: [0] }],
      attacks,
      labelSources: ['true'],
    },
    'suite.json',
  );
}

describe('model-related attacks checked against the networks of the substitutes, before training', () => {
  before(async () => {
    await useBackend('wasm');
  });

  it("accepts sgm restricted to resnet8, linbp at each network's own value, and ghost everywhere", () => {
    const suite = suiteWith([
      { name: 'sgm', eps: [0.1], architectures: ['resnet8'] },
      { name: 'linbp', eps: [0.1], params: { linbpLayer: 'net/Relu_14' }, architectures: ['cnn-small'] },
      { name: 'ghost', eps: [0.1] },
      { name: 'mi-fgsm', eps: [0.1] },
    ]);
    assert.doesNotThrow(() => checkModelRelatedAttacks(suite, DATA, 'suite.json'));
  });

  it(
    'refuses sgm on a network without skips and linbp at a value a network ' + 'lacks, in one line naming the entry',
    () => {
      const refusal = (attacks: Record<string, unknown>[], expected: RegExp) =>
        assert.throws(
          () => checkModelRelatedAttacks(suiteWith(attacks), DATA, 'suite.json'),
          (error: Error) => expected.test(error.message) && !error.message.includes('\n'),
        );
      refusal(
        [
          { name: 'mi-fgsm', eps: [0.1] },
          { name: 'sgm', eps: [0.1] },
        ],
        /^suite.json: attacks\[1\] on substitute architecture cnn-small: sgm: surrogate cnn-small has no residual Add/,
      );
      refusal(
        [{ name: 'linbp', eps: [0.1], params: { linbpLayer: 'net/Relu_14' } }],
        new RegExp(
          '^suite.json: attacks\\[0\\] on substitute architecture resnet8: ' +
            'linbp: linbpLayer: "net\\/Relu_14" is not a value of surrogate resnet8',
        ),
      );
      refusal(
        [{ name: 'linbp', eps: [0.1] }],
        /attacks\[0\] on substitute architecture cnn-small: linbp: linbpLayer: name/,
      );
    },
  );
});
