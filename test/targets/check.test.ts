import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { takeEvaluation, type Dataset } from '../../src/data/index.js';
import { checkDatasetFitsTarget, checkTargetAgainstModel } from '../../src/targets/check.js';
import { loadTarget, type TargetDescriptor } from '../../src/targets/descriptor.js';
import { tempDir } from '../fixtures/files.js';
import { TinyGraph } from '../compute/onnx-gradient/tiny-graph.js';

const FIXTURE = new URL('../../../test/fixtures/torch/mnist-cnn/', import.meta.url);
const original = JSON.parse(readFileSync(new URL('target.json', FIXTURE), 'utf8')) as TargetDescriptor;

/** A copy of the PyTorch MNIST CNN fixture (NCHW [1, 28, 28], 10 logits) with its descriptor changed. */
function variant(change: (d: TargetDescriptor) => void): string {
  const dir = tempDir('transferbench-check-');
  copyFileSync(new URL('model.onnx', FIXTURE), join(dir, 'model.onnx'));
  const descriptor = structuredClone(original);
  change(descriptor);
  writeFileSync(join(dir, 'target.json'), JSON.stringify(descriptor));
  return join(dir, 'target.json');
}

const digits = (labels: number[], imageShape: [number, number, number] = [28, 28, 1]): Dataset => ({
  name: 'digits',
  source: 'test',
  images: new Float32Array(labels.length * imageShape[0] * imageShape[1] * imageShape[2]),
  labels: Int32Array.from(labels),
  imageShape,
  classNames: Array.from({ length: 10 }, (_, i) => String(i)),
});

describe('a target descriptor is checked against its model before anything is queried', () => {
  it('accepts the fixture as it is', async () => {
    await checkTargetAgainstModel(loadTarget(variant(() => {})));
  });

  const refused: [string, (d: TargetDescriptor) => void, RegExp][] = [
    [
      'classNames with 5 entries for 10 outputs',
      (d) => {
        d.classNames = d.classNames.slice(0, 5);
      },
      /target\.json: classNames has 5 entries, but the model outputs 10 classes; give one name per output$/,
    ],
    [
      'classNames with 12 entries for 10 outputs',
      (d) => {
        d.classNames = [...d.classNames, '10', '11'];
      },
      /classNames has 12 entries, but the model outputs 10 classes/,
    ],
    [
      'outputKind "probabilities" on a model that outputs logits',
      (d) => {
        d.outputKind = 'probabilities';
      },
      /outputKind is "probabilities", but the model's answers to a probe image sum to .*; use "logits" for raw scores/,
    ],
    [
      'outputKind "log-probabilities" on a model that outputs logits',
      (d) => {
        d.outputKind = 'log-probabilities';
      },
      /outputKind is "log-probabilities", but the model answers a probe image with .*above 0/,
    ],
    [
      'layout NHWC with inputShape [28, 28, 1] on an NCHW model',
      (d) => {
        d.layout = 'NHWC';
        d.inputShape = [28, 28, 1];
      },
      new RegExp(
        "layout NHWC with inputShape \\[28, 28, 1\\], but the model's input " +
          "input is \\[batch, 1, 28, 28\\]; give inputShape in the model's own " +
          'layout',
      ),
    ],
    [
      'an input name the model does not have',
      (d) => {
        d.inputName = 'pixels';
      },
      /inputName "pixels" is not an input of the model; it has "input"$/,
    ],
    [
      'an output name the model does not have',
      (d) => {
        d.outputName = 'probs';
      },
      /outputName "probs" is not an output of the model; it has "logits"$/,
    ],
  ];
  for (const [what, change, message] of refused) {
    it(`refuses ${what}, in one line naming the key`, async () => {
      await assert.rejects(checkTargetAgainstModel(loadTarget(variant(change))), (error: Error) => {
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\n/);
        assert.equal((error as { code?: string }).code, 'BAD_CONFIG');
        return true;
      });
    });
  }

  it('refuses a model whose output is [batch, 2, 5] described as 10 classes', async () => {
    const g = new TinyGraph([1, 2, 2]);
    const flat = g.node('Flatten', ['x']);
    const scores = g.node('Gemm', [flat, g.weight([4, 10]), g.weight([10])]);
    const shaped = g.node('Reshape', [scores, g.int64s([-1, 2, 5])]);
    const { bytes } = g.asIs(shaped, 10);
    const dir = tempDir('transferbench-check-');
    writeFileSync(join(dir, 'model.onnx'), bytes);
    const descriptor: TargetDescriptor = {
      ...structuredClone(original),
      model: 'model.onnx',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      inputName: 'x',
      outputName: shaped,
      inputShape: [1, 2, 2],
    };
    writeFileSync(join(dir, 'target.json'), JSON.stringify(descriptor));
    await assert.rejects(
      checkTargetAgainstModel(loadTarget(join(dir, 'target.json'))),
      /output .* is \[batch, 2, 5\]; a classifier's output must be \[batch, classes\]/,
    );
  });

  it('refuses data whose labels reach past the classes, or whose images are of another shape', () => {
    const target = loadTarget(variant(() => {}));
    checkDatasetFitsTarget(target, digits([0, 9, 3]));
    assert.throws(
      () => checkDatasetFitsTarget(target, digits([0, 12, 3])),
      /digits has label 12, but the target has 10 classes \(0-9\)$/,
    );
    assert.throws(
      () => checkDatasetFitsTarget(target, digits([0], [32, 32, 3])),
      /the model takes 28x28x1 images \(layout NCHW, inputShape \[1, 28, 28\]\), but digits has 32x32x3/,
    );
  });

  it('refuses an evaluationSize above what the test split has, naming both numbers', () => {
    assert.equal(takeEvaluation(digits([1, 2, 3]), 3, 'evaluationSize').labels.length, 3);
    assert.throws(
      () => takeEvaluation(digits([1, 2, 3]), 9000, 'bench/x.json: evaluationSize'),
      new RegExp(
        '^TransferbenchError: bench\\/x\\.json: evaluationSize is 9000, but ' +
          'the test split of digits has 3 images; ask for at most 3$',
      ),
    );
  });
});
