import * as tf from '@tensorflow/tfjs';
import type { LossRequest } from '../../compute/surrogate.js';
import { lossGradientOf, type Crafting } from '../crafting.js';
import type { LabelledImages } from '../types.js';
import type { BoundTransform, TransformPlan } from './types.js';
import { valuesOf } from '../../compute/values.js';

/** Everything fixed for a whole attack on a batch, which each gradient evaluation reuses. */
export interface GradientSetting {
  readonly labels: Int32Array;
  readonly ids: readonly number[];
  readonly imageShape: readonly [number, number, number];
  readonly transforms: readonly BoundTransform[];
  readonly pool: LabelledImages;
  readonly loss: LossRequest;
}

/** Repeats values `copies` times, copy-major. */
function tile(values: Int32Array, copies: number): Int32Array {
  const out = new Int32Array(values.length * copies);
  for (let j = 0; j < copies; j++) out.set(values, j * values.length);
  return out;
}

/**
 * The loss gradient at `points` through the transformations: the input transformations' copies
 * go to the surrogate in one call, the gradient of each copy flows back through its
 * transformation (a vector-Jacobian product in tfjs) and the copies are averaged; gradient-side
 * transformations (TI) then act on the result. Without any transformation that does something,
 * this is the surrogate's gradient itself, untouched.
 */
export function* transformedGradient(
  points: Float32Array,
  setting: GradientSetting,
  evaluation: number,
): Crafting<Float32Array> {
  const n = setting.labels.length;
  const plans: TransformPlan[] = [];
  let keys = setting.ids.map(String);
  let labels = setting.labels;
  for (const transform of setting.transforms) {
    if (transform.plan === undefined) continue;
    const plan = transform.plan({
      imageShape: setting.imageShape,
      keys,
      labels,
      evaluation,
      pool: setting.pool,
    });
    if (plan.identity) continue;
    plans.push(plan);
    keys = Array.from({ length: plan.copies }, (_, j) => keys.map((k) => `${k}.${j}`)).flat();
    labels = tile(labels, plan.copies);
  }
  const shape: [number, number, number, number] = [n, ...setting.imageShape];
  let gradient: Float32Array;
  if (plans.length === 0) {
    gradient = (yield* lossGradientOf(points, setting.labels, setting.loss)).gradient;
  } else {
    const forward = (x: tf.Tensor4D) => plans.reduce((y, plan) => plan.forward(y), x);
    const transformed = valuesOf(tf.tidy(() => forward(tf.tensor4d(points, shape))));
    const copies = labels.length / n;
    const truth = setting.loss.trueLabels;
    const loss = truth ? { ...setting.loss, trueLabels: tile(truth, copies) } : setting.loss;
    const upstream = (yield* lossGradientOf(transformed, labels, loss)).gradient;
    gradient = valuesOf(
      tf.tidy(() => {
        const dy = tf.tensor4d(upstream, [labels.length, ...setting.imageShape]);
        const back = tf.grad((x: tf.Tensor) => forward(x as tf.Tensor4D))(tf.tensor4d(points, shape), dy);
        return copies > 1 ? back.div(copies) : back;
      }),
    );
  }
  const smoothing = setting.transforms.filter((t) => t.smooth !== undefined);
  if (smoothing.length === 0) return gradient;
  const smoothed = tf.tidy(() => {
    let g = tf.tensor4d(gradient, shape);
    let changed = false;
    for (const transform of smoothing) {
      const next = transform.smooth?.(g);
      if (next !== undefined) {
        g = next;
        changed = true;
      }
    }
    return changed ? g : undefined;
  });
  return smoothed === undefined ? gradient : valuesOf(smoothed);
}
