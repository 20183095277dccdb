import assert from 'node:assert/strict';
import { Random } from '../../../src/common/random.js';
import { ints } from '../../../src/compute/onnx-gradient/ir.js';
import { createOnnxSurrogate } from '../../../src/compute/onnx-gradient/surrogate.js';
import { featureLayers } from '../../../src/compute/onnx-gradient/taps.js';
import type { FeatureTaps } from '../../../src/compute/surrogate.js';
import { normwiseRelativeError } from './finite-differences.js';
import { TinyGraph } from './tiny-graph.js';

/** Conv -> Relu -> MaxPool -> Conv -> Tanh -> classifier: every value after the first Conv is a cut of the graph. */
async function classifier() {
  const g = new TinyGraph([2, 6, 6]);
  const conv = g.node('Conv', ['x', g.weight([3, 2, 3, 3]), g.weight([3], 0.1)], { pads: ints([1, 1, 1, 1]) });
  const relu = g.node('Relu', [conv]);
  const pool = g.node('MaxPool', [relu], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) });
  const tanh = g.node('Tanh', [g.node('Conv', [pool, g.weight([4, 3, 3, 3]), g.weight([4], 0.1)])]);
  return { ...(await g.classifier(tanh, 3)), relu, pool, tanh };
}

/** Pixels (k + 1/2) / size in a random order: no two within a finite-difference step (see finite-differences.ts). */
function spreadImages(count: number, size: number, random: Random): Float32Array {
  const images = new Float32Array(count * size);
  for (let i = 0; i < count; i++)
    images.set(
      Array.from(random.permutation(size), (k) => (k + 0.5) / size),
      i * size,
    );
  return images;
}

describe('feature taps (ONNX surrogate)', () => {
  it('lists the float values between input and output with their shapes, the Relu before a MaxPool too', async () => {
    const { bytes, description, relu, pool, tanh } = await classifier();
    const layers = await featureLayers(bytes, description);
    const byName = new Map(layers.map((l) => [l.name, l]));
    assert.deepEqual(byName.get(relu), { name: relu, opType: 'Relu', shape: [3, 6, 6] });
    assert.deepEqual(byName.get(pool), { name: pool, opType: 'MaxPool', shape: [3, 3, 3] });
    assert.deepEqual(byName.get(tanh), { name: tanh, opType: 'Tanh', shape: [4, 1, 1] });
    assert.ok(!byName.has('x'), 'the model input is not a layer');
    assert.equal(layers.length, 7, layers.map((l) => l.name).join(', '));
  });

  for (const layerKey of ['relu', 'pool', 'tanh'] as const) {
    it(`${layerKey}: d(loss)/d(layer) matches finite differences along the layer's own change`, async () => {
      const model = await classifier();
      const layer = model[layerKey];
      const surrogate = await createOnnxSurrogate(model.bytes, model.description);
      try {
        const taps = surrogate.taps as FeatureTaps;
        const random = new Random(3);
        const size = 72;
        const count = 2;
        const images = spreadImages(count, size, random);
        const labels = Int32Array.from([0, 2]);
        const request = { loss: 'cross-entropy' } as const;
        const tap = await taps.featureGradient(images, labels, layer, request);
        const whole = await surrogate.lossGradient(images, labels, request);
        assert.deepEqual(tap.logits, whole.logits);
        assert.deepEqual(tap.loss, whole.loss);
        // L(x + t v) - L(x - t v) = <dL/df, f(x + t v) - f(x - t v)> to second order, f being a cut of the graph.
        const step = 0.05 / size;
        const predicted: number[] = [];
        const observed: number[] = [];
        for (let trial = 0; trial < 4; trial++) {
          const direction = Float32Array.from(images, () => random.next() - 0.5);
          const plus = await taps.featureGradient(
            images.map((v, i) => v + step * (direction[i] as number)),
            labels,
            layer,
            request,
          );
          const minus = await taps.featureGradient(
            images.map((v, i) => v - step * (direction[i] as number)),
            labels,
            layer,
            request,
          );
          const perImage = plus.feature.length / count;
          for (let i = 0; i < count; i++) {
            let dot = 0;
            for (let j = i * perImage; j < (i + 1) * perImage; j++)
              dot += (tap.gradient[j] as number) * ((plus.feature[j] as number) - (minus.feature[j] as number));
            predicted.push(dot);
            observed.push((plus.loss[i] as number) - (minus.loss[i] as number));
          }
        }
        const error = normwiseRelativeError(predicted, observed);
        assert.ok(error < 1e-2, `relative error ${error}`);
        assert.ok(
          observed.some((v) => Math.abs(v) > 1e-4),
          'the loss moves',
        );
      } finally {
        await surrogate.dispose();
      }
    });
  }

  it('the objective sum((f - reference) w) gets its value and input gradient right (finite differences)', async () => {
    const { bytes, description, pool } = await classifier();
    const surrogate = await createOnnxSurrogate(bytes, description, { batchSize: 1 });
    try {
      const taps = surrogate.taps as FeatureTaps;
      const random = new Random(11);
      const size = 72;
      const images = spreadImages(2, size, random);
      const layerSize = 27;
      const weights = Float32Array.from({ length: 2 * layerSize }, () => random.next() - 0.5);
      const reference = Float32Array.from({ length: 2 * layerSize }, () => random.next());
      const result = await taps.featureObjectiveGradient(images, { layer: pool, weights, reference });
      const clean = await taps.featureObjectiveGradient(images, { layer: pool, weights });
      assert.deepEqual(result.gradient, clean.gradient, 'the reference shifts the value, not the gradient');
      for (let i = 0; i < 2; i++) {
        let expected = 0;
        for (let j = i * layerSize; j < (i + 1) * layerSize; j++)
          expected += ((result.feature[j] as number) - (reference[j] as number)) * (weights[j] as number);
        assert.ok(Math.abs((result.objective[i] as number) - expected) < 1e-5, `objective ${i}`);
      }
      const step = 0.2 / size;
      const numeric = new Float32Array(2 * size);
      const shifted = (j: number, by: number) => {
        const copy = Float32Array.from(images);
        copy[j] = (copy[j] as number) + by;
        return copy;
      };
      for (let j = 0; j < 2 * size; j++) {
        const image = Math.floor(j / size);
        const at = async (by: number) =>
          (await taps.featureObjectiveGradient(shifted(j, by), { layer: pool, weights, reference })).objective[
            image
          ] as number;
        numeric[j] =
          (8 * ((await at(step)) - (await at(-step))) - ((await at(2 * step)) - (await at(-2 * step)))) / (12 * step);
      }
      const error = normwiseRelativeError(result.gradient, numeric);
      assert.ok(error < 1e-3, `relative error ${error}`);
      // FIA's loss with the loss tap's gradient as weights: J^T dL/df is the input gradient of the loss itself.
      const labels = Int32Array.from([1, 0]);
      const tap = await taps.featureGradient(images, labels, pool, { loss: 'cross-entropy' });
      const chained = await taps.featureObjectiveGradient(images, { layer: pool, weights: tap.gradient });
      const direct = await surrogate.lossGradient(images, labels, { loss: 'cross-entropy' });
      assert.ok(normwiseRelativeError(chained.gradient, direct.gradient) < 1e-5);
    } finally {
      await surrogate.dispose();
    }
  });

  it('refuses an unknown layer with the candidates and mismatched weights, and disposes cleanly after', async () => {
    const { bytes, description, pool } = await classifier();
    const surrogate = await createOnnxSurrogate(bytes, description);
    const taps = surrogate.taps as FeatureTaps;
    const images = new Float32Array(72);
    await assert.rejects(
      taps.featureGradient(images, Int32Array.from([0]), 'conv9', { loss: 'cross-entropy' }),
      new RegExp(
        '^TransferbenchError: layer: got "conv9", expected a float value of ' +
          'the model between its input and its output \\(7 candidates, listed by ' +
          'targets inspect: conv2_0, relu3_0, maxpool4_0, conv7_0, tanh8_0, ' +
          'flatten9_0, gemm12_0\\)$',
      ),
    );
    await assert.rejects(
      taps.featureObjectiveGradient(images, { layer: pool, weights: new Float32Array(26) }),
      /weights: got "26 values", expected a whole number of 27-value features/,
    );
    await assert.rejects(
      taps.featureObjectiveGradient(images, {
        layer: pool,
        weights: new Float32Array(27),
        reference: new Float32Array(3),
      }),
      /reference: got "3 values", expected as many as weights \(27\)/,
    );
    await surrogate.dispose();
    await assert.rejects(
      taps.featureGradient(images, Int32Array.from([0]), pool, { loss: 'cross-entropy' }),
      /a surrogate that has not been disposed/,
    );
  });
});
