import assert from 'node:assert/strict';
import { Random } from '../../../src/common/random.js';
import { buildGradientModel } from '../../../src/compute/onnx-gradient/build.js';
import { ints } from '../../../src/compute/onnx-gradient/ir.js';
import { GRADIENT_BUILDERS } from '../../../src/compute/onnx-gradient/registry.js';
import { createOnnxSurrogate } from '../../../src/compute/onnx-gradient/surrogate.js';
import { TinyGraph } from './tiny-graph.js';

async function classifier() {
  const g = new TinyGraph([2, 6, 6]);
  const conv = g.node('Relu', [
    g.node('Conv', ['x', g.weight([4, 2, 3, 3]), g.weight([4], 0.1)], { pads: ints([1, 1, 1, 1]) }),
  ]);
  return g.classifier(g.node('MaxPool', [conv], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }), 3);
}

describe('createOnnxSurrogate', () => {
  it('gives the same results whatever the batch size it runs at', async () => {
    const { bytes, description } = await classifier();
    const random = new Random(5);
    const count = 7;
    const images = Float32Array.from({ length: count * 72 }, () => random.next());
    const labels = Int32Array.from({ length: count }, () => random.int(3));
    const whole = await createOnnxSurrogate(bytes, description, { batchSize: 256, name: 'whole' });
    const pieces = await createOnnxSurrogate(bytes, description, { batchSize: 3, intraOpNumThreads: 2 });
    try {
      assert.equal(whole.name, 'whole');
      assert.deepEqual(whole.imageShape, [6, 6, 2]);
      assert.equal(whole.classes, 3);
      const a = await whole.lossGradient(images, labels, { loss: 'cw-untargeted', kappa: 10 });
      const b = await pieces.lossGradient(images, labels, { loss: 'cw-untargeted', kappa: 10 });
      for (const key of ['logits', 'loss', 'gradient'] as const)
        a[key].forEach((v, i) => assert.ok(Math.abs(v - (b[key][i] as number)) < 1e-5, key));
      assert.ok(a.gradient.some((v) => v !== 0));
      assert.deepEqual(await pieces.logits(images, count), await whole.logits(images, count));
    } finally {
      await whole.dispose();
      await pieces.dispose();
    }
  });

  it('refuses images of the wrong size, labels out of range, bad options, and use after dispose', async () => {
    const { bytes, description } = await classifier();
    await assert.rejects(
      createOnnxSurrogate(bytes, description, { intraOpNumThreads: 0 }),
      /intraOpNumThreads: got 0, expected an integer >= 1/,
    );
    await assert.rejects(
      createOnnxSurrogate(bytes, description, { batchSize: 1.5 }),
      /batchSize: got 1.5, expected an integer >= 1/,
    );
    await assert.rejects(
      createOnnxSurrogate(bytes, { ...description, classes: 5 }),
      /classes: got 5, expected the width of the model's output .* shape \[-1, 3\]/,
    );
    await assert.rejects(
      createOnnxSurrogate(bytes, { ...description, inputName: 'pixels' }),
      /inputName: got "pixels", expected an input of the model \(x\)/,
    );
    await assert.rejects(
      createOnnxSurrogate(bytes, { ...description, normalization: { mean: [0, 0, 0], std: [1] } }),
      /normalization.mean has 3 values; expected 1 or one per channel \(2\)/,
    );
    const surrogate = await createOnnxSurrogate(bytes, description);
    await assert.rejects(
      surrogate.logits(new Float32Array(71), 1),
      /images: got "71 values", expected 1 images of 6x6x2 = 72 values/,
    );
    await assert.rejects(
      surrogate.lossGradient(new Float32Array(144), Int32Array.from([0, 3]), { loss: 'cross-entropy' }),
      /labels\[1\]: got 3, expected a class index in \[0, 2\]/,
    );
    await surrogate.dispose();
    await assert.rejects(surrogate.logits(new Float32Array(72), 1), /a surrogate that has not been disposed/);
  });

  it('names an unsupported operator, its node and the supported list in one line', async () => {
    const g = new TinyGraph([2, 4, 4]);
    const { bytes, description } = await g.classifier(g.node('Sinh', ['x']));
    await assert.rejects(buildGradientModel(bytes, description, { loss: 'cross-entropy' }), (error: Error) => {
      assert.equal(
        error.message,
        'ONNX gradient: no gradient for operator Sinh (node Sinh_0); ' +
          `supported: ${GRADIENT_BUILDERS.names().join(', ')}`,
      );
      return true;
    });
  });

  it('fails at creation, not at the first gradient, naming every missing operator once', async () => {
    const g = new TinyGraph([2, 4, 4]);
    const { bytes, description } = await g.classifier(g.node('Cos', [g.node('Sin', [g.node('Sin', ['x'])])]));
    await assert.rejects(createOnnxSurrogate(bytes, description), (error: Error) => {
      assert.equal(
        error.message,
        `ONNX gradient: no gradient for operators Sin (node Sin_0), Cos (node Cos_2); ` +
          `supported: ${GRADIENT_BUILDERS.names().join(', ')}`,
      );
      return true;
    });
  });

  it(
    'disposes without rethrowing after a call whose session failed to ' + 'build, and refuses calls afterwards',
    async () => {
      const { bytes, description } = await classifier();
      const surrogate = await createOnnxSurrogate(bytes, description);
      await assert.rejects(
        surrogate.lossGradient(new Float32Array(72), Int32Array.from([0]), { loss: 'hinge' as 'cross-entropy' }),
        /loss: got "hinge", expected one of cross-entropy, cw-untargeted, cw-targeted/,
      );
      await surrogate.lossGradient(new Float32Array(72), Int32Array.from([0]), { loss: 'cw-targeted' });
      await surrogate.dispose();
      await surrogate.dispose();
      await assert.rejects(
        surrogate.lossGradient(new Float32Array(72), Int32Array.from([0]), { loss: 'cw-targeted' }),
        /a surrogate that has not been disposed/,
      );
    },
  );

  it('refuses an opset outside 11-18 and a model whose batch is fixed', async () => {
    const old = new TinyGraph([2, 4, 4], 10);
    const oldModel = await old.classifier(old.node('Relu', ['x']));
    await assert.rejects(
      buildGradientModel(oldModel.bytes, oldModel.description, { loss: 'cross-entropy' }),
      /uses opset 10; supported opsets are 11 to 20/,
    );
    const fixed = new TinyGraph([2, 4, 4]);
    const reshaped = fixed.node('Reshape', ['x', fixed.int64s([1, 32])]);
    const fixedModel = fixed.asIs(fixed.node('Gemm', [reshaped, fixed.weight([32, 3])]), 3);
    await assert.rejects(
      buildGradientModel(fixedModel.bytes, fixedModel.description, { loss: 'cross-entropy' }),
      /does not run at batch 2 .*dynamic_axes/,
    );
  });
});
