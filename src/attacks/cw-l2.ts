import * as tf from '@tensorflow/tfjs';
import { lossGradientOf, type Crafting } from './crafting.js';
import { project } from './norms.js';
import { BOOLEAN, NON_NEGATIVE, param, POSITIVE, POSITIVE_INTEGER } from '../common/params.js';
import { defineAttack, type AttackBatch, type AttackParamsOf } from './types.js';
import { valuesOf } from '../compute/values.js';

/** tfjs's Adam constants (tf.train.adam's defaults), so the optimiser matches the one it replaced. */
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-7;

const CW_PARAMETERS = [
  param({ name: 'steps', range: POSITIVE_INTEGER, description: 'Adam steps per binary-search step', default: 100 }),
  param({
    name: 'binarySearchSteps',
    range: POSITIVE_INTEGER,
    description: 'binary search steps on the constant c',
    default: 5,
  }),
  param({ name: 'initialConst', range: POSITIVE, description: 'initial c', default: 1 }),
  param({ name: 'learningRate', range: POSITIVE, description: 'Adam learning rate', default: 0.05 }),
  param({ name: 'confidence', range: NON_NEGATIVE, description: 'C&W margin kappa', default: 0 }),
  param({ name: 'clipToLinf', range: BOOLEAN, description: 'clip the result into the L-inf eps-ball', default: true }),
];

/**
 * Carlini-Wagner L2 (1608.04644): optimise w with x = (tanh(w) + 1) / 2 (so x stays in [0,1]),
 * minimising ||x - x0||^2 + c * f(x) with Adam, and binary-searching c per example. f is the
 * surrogate's C&W margin loss; its input gradient reaches w by the chain rule through tanh space:
 * dL/dw = (2 (x - x0) + c df/dx) (1 - tanh(w)^2) / 2. Keeps the smallest successful perturbation
 * per example; an example never fooled stays clean.
 */
function* craftCwL2(batch: AttackBatch, params: AttackParamsOf<typeof CW_PARAMETERS>): Crafting<Float32Array> {
  const original = batch.images;
  const n = batch.labels.length;
  const size = original.length / n;
  const kappa = params.confidence;
  const loss = params.targeted ? 'cw-targeted' : 'cw-untargeted';
  const best = Float32Array.from(original);
  const bestDistance = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const constant = new Float64Array(n).fill(params.initialConst);
  const lower = new Float64Array(n).fill(0);
  const upper = new Float64Array(n).fill(1e10);
  const start = Float32Array.from(original, (v) => Math.atanh((2 * v - 1) * 0.999999));
  for (let search = 0; search < params.binarySearchSteps; search++) {
    const succeeded = new Uint8Array(n);
    const w = Float64Array.from(start);
    const first = new Float64Array(w.length);
    const second = new Float64Array(w.length);
    for (let step = 0; step < params.steps; step++) {
      const tanh = w.map(Math.tanh);
      const x = Float32Array.from(tanh, (t) => (t + 1) / 2);
      const answer = yield* lossGradientOf(x, batch.labels, { loss, kappa });
      // f <= -kappa: the (target) class wins by kappa; the clamp holds the loss there.
      for (let k = 0; k < n; k++) {
        let distance = 0;
        for (let i = k * size; i < (k + 1) * size; i++) distance += ((x[i] as number) - (original[i] as number)) ** 2;
        if ((answer.loss[k] as number) <= -kappa) {
          succeeded[k] = 1;
          if (distance < (bestDistance[k] as number)) {
            bestDistance[k] = distance;
            best.set(x.subarray(k * size, (k + 1) * size), k * size);
          }
        }
      }
      const correction1 = 1 - BETA1 ** (step + 1);
      const correction2 = 1 - BETA2 ** (step + 1);
      for (let i = 0; i < w.length; i++) {
        const k = Math.floor(i / size);
        const dx =
          2 * ((x[i] as number) - (original[i] as number)) + (constant[k] as number) * (answer.gradient[i] as number);
        const g = (dx * (1 - (tanh[i] as number) ** 2)) / 2;
        first[i] = BETA1 * (first[i] as number) + (1 - BETA1) * g;
        second[i] = BETA2 * (second[i] as number) + (1 - BETA2) * g * g;
        w[i] =
          (w[i] as number) -
          (params.learningRate * ((first[i] as number) / correction1)) /
            (Math.sqrt((second[i] as number) / correction2) + EPSILON);
      }
    }
    for (let k = 0; k < n; k++) {
      const ck = constant[k] as number;
      if (succeeded[k]) {
        upper[k] = Math.min(upper[k] as number, ck);
        constant[k] = ((lower[k] as number) + (upper[k] as number)) / 2;
      } else {
        lower[k] = Math.max(lower[k] as number, ck);
        constant[k] = (upper[k] as number) < 1e9 ? ((lower[k] as number) + (upper[k] as number)) / 2 : ck * 10;
      }
    }
  }
  if (!params.clipToLinf) return best;
  const shape: [number, number, number, number] = [n, ...batch.imageShape];
  return valuesOf(tf.tidy(() => project(tf.tensor4d(best, shape), tf.tensor4d(original, shape), params.eps, 'linf')));
}

export const cwL2 = defineAttack({
  name: 'cw-l2',
  kind: 'optimisation',
  description: 'Carlini-Wagner L2: tanh variables, Adam, binary search on c (Carlini & Wagner 1608.04644)',
  usesLabels: true,
  parameters: CW_PARAMETERS,
  transformable: false,
  craft: (batch, params) => craftCwL2(batch, params),
});
