import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { craftAdversarial, perturbationNorms } from '../../src/attacks/index.js';
import { useBackend } from '../../src/compute/backend.js';
import { EnsembleSurrogate } from '../../src/compute/ensemble-surrogate.js';
import { ints } from '../../src/compute/onnx-gradient/ir.js';
import { createOnnxSurrogate } from '../../src/compute/onnx-gradient/surrogate.js';
import type { Surrogate } from '../../src/compute/surrogate.js';
import { images, linearModel } from '../attacks/fixtures.js';
import { TinyGraph } from './onnx-gradient/tiny-graph.js';

/** An ensemble mixing an onnxruntime surrogate (a generated backward graph) with a tfjs one. */
describe('EnsembleSurrogate of an ONNX and a tfjs member', () => {
  const shape: [number, number, number] = [6, 6, 2];
  let onnx: Surrogate;
  let linear: ReturnType<typeof linearModel>;
  let x: Float32Array;
  const labels = Int32Array.from([0, 1, 2, 1, 0]);

  before(async () => {
    await useBackend('wasm');
    const g = new TinyGraph([2, 6, 6]);
    const conv = g.node('Relu', [
      g.node('Conv', ['x', g.weight([4, 2, 3, 3]), g.weight([4], 0.1)], { pads: ints([1, 1, 1, 1]) }),
    ]);
    const { bytes, description } = await g.classifier(
      g.node('MaxPool', [conv], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
      3,
    );
    onnx = await createOnnxSurrogate(bytes, description, { name: 'onnx-cnn' });
    linear = linearModel(shape, 3, 4);
    x = tf.tidy(() => images(5, shape, 17).dataSync() as Float32Array);
  });
  after(async () => {
    await onnx.dispose();
    linear.dispose();
  });

  it("combined by loss: the mean of the members' losses and gradients", async () => {
    const ensemble = EnsembleSurrogate.of('mixed', [onnx, linear.surrogate], 'loss');
    const ours = await ensemble.lossGradient(x, labels, { loss: 'cross-entropy' });
    const a = await onnx.lossGradient(x, labels, { loss: 'cross-entropy' });
    const b = linear.surrogate.lossGradientSync(x, labels, { loss: 'cross-entropy' });
    ours.gradient.forEach((v, i) =>
      assert.ok(Math.abs(v - ((a.gradient[i] as number) + (b.gradient[i] as number)) / 2) <= 1e-6, `gradient ${i}`),
    );
    assert.ok(ours.gradient.some((v) => v !== 0));
  });

  it(
    'combined by logits: the ONNX member backpropagates its logits ' +
      '(objective tap), the gradient equals central differences',
    async () => {
      const ensemble = EnsembleSurrogate.of('mixed', [onnx, linear.surrogate]);
      const { gradient } = await ensemble.lossGradient(x, labels, { loss: 'cross-entropy' });
      const direction = Float32Array.from(x, (_, i) => Math.sin(1.7 * i));
      const h = 1e-3;
      const lossAt = async (sign: number) => {
        const moved = Float32Array.from(x, (v, i) => v + sign * h * (direction[i] as number));
        const { loss } = await ensemble.lossGradient(moved, labels, { loss: 'cross-entropy' });
        return loss.reduce((a, b) => a + b, 0);
      };
      const numeric = ((await lossAt(1)) - (await lossAt(-1))) / (2 * h);
      const analytic = gradient.reduce((sum, g, i) => sum + g * (direction[i] as number), 0);
      assert.ok(Math.abs(numeric - analytic) <= 1e-2 * Math.abs(analytic) + 1e-4, `${analytic} vs ${numeric}`);
    },
  );

  it('MI-FGSM with DI and TI crafts on it inside the eps-ball, deterministically', async () => {
    const ensemble = EnsembleSurrogate.of('mixed', [onnx, linear.surrogate], 'loss');
    const request = {
      images: x,
      trueLabels: labels,
      ids: [0, 1, 2, 3, 4],
      eps: 0.1,
      labelSource: 'true' as const,
      transforms: ['di', 'ti'],
      params: { resizeRate: 1.5, kernelSize: 3, seed: 1 },
    };
    const first = await craftAdversarial('mi-fgsm', ensemble, request);
    assert.deepEqual(await craftAdversarial('mi-fgsm', ensemble, request), first);
    const norms = perturbationNorms(first, x, 5);
    for (const n of norms.linf) assert.ok(n <= 0.1 + 1e-6 && n > 0, `linf ${n}`);
  });
});
