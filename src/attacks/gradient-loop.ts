import * as tf from '@tensorflow/tfjs';
import { argRows, logitsOf, type Crafting } from './crafting.js';
import { normalize, project, randomPoint } from './norms.js';
import { transformedGradient, type GradientSetting } from './transforms/apply.js';
import type { InputTransform } from './transforms/types.js';
import type { AttackBatch, AttackParams } from './types.js';

/** What the loop carries from one step to the next: typed arrays only (nothing to dispose). */
export interface LoopState {
  readonly original: Float32Array;
  x: Float32Array;
  /** MI-FGSM's accumulated gradient, once a step has run with decay > 0 (the raw gradient with decay 0). */
  momentum?: Float32Array;
  /** VMI/VNI-FGSM's gradient variance from the previous step. */
  variance?: Float32Array;
  /** Gradient evaluations so far: each names its own random streams (transformations, neighbours). */
  evaluations: number;
}

/** What a gradient method's hook can use. */
export interface LoopContext {
  readonly batch: AttackBatch;
  readonly params: AttackParams;
  /** +1 ascends the loss (untargeted), -1 descends towards the labels (targeted). */
  readonly direction: 1 | -1;
  /** The (transformed) loss gradient at points; every call is one evaluation. */
  gradientAt(state: LoopState, points: Float32Array): Crafting<Float32Array>;
}

/**
 * A gradient method (after TransferAttack's `Attack`): the loop is one; a method overrides only
 * the hook that computes the gradient driving each step (NI's look-ahead, VMI's variance tuning).
 * Momentum accumulation, the step and the projection are the loop's.
 */
export interface GradientMethod {
  readonly gradient: (context: LoopContext, state: LoopState) => Crafting<Float32Array>;
}

/** I-FGSM, MI-FGSM, PGD: the gradient at the current point. */
export const PLAIN: GradientMethod = { gradient: (context, state) => context.gradientAt(state, state.x) };

export interface LoopOptions {
  /** Where to start instead of the clean images (R+FGSM's random step). */
  readonly start?: Float32Array;
  readonly method?: GradientMethod;
  readonly transforms?: readonly InputTransform[];
}

const shapeOf = (batch: AttackBatch): [number, number, number, number] => [batch.labels.length, ...batch.imageShape];

/**
 * The one gradient loop every single- and multi-step attack runs (after Foolbox and
 * TransferAttack): each step takes the method's gradient, accumulates it into the momentum
 * (MI-FGSM: L1-normalised per example, decay mu) when decay > 0, moves by stepSize along the
 * normalised direction (ascending the loss, or descending towards the labels when targeted), then
 * projects into the eps-ball and [0, 1]. FGSM is this loop run once with the whole budget as its step.
 */
export function* gradientLoop(batch: AttackBatch, params: AttackParams, options: LoopOptions = {}): Crafting<Float32Array> {
  const shape = shapeOf(batch);
  const original = batch.images;
  const start = options.start ?? (params.randomStart ? tf.tidy(() => randomPoint(tf.tensor4d(original, shape), batch.ids, params.eps, params.norm, params.seed).dataSync() as Float32Array) : original);
  const state: LoopState = { original, x: start, evaluations: 0 };
  const setting: GradientSetting = {
    labels: batch.labels,
    ids: batch.ids,
    imageShape: batch.imageShape,
    params,
    transforms: options.transforms ?? [],
    pool: batch.pool ?? { images: batch.images, labels: batch.labels },
    loss: { loss: 'cross-entropy' },
  };
  const context: LoopContext = {
    batch,
    params,
    direction: params.targeted ? -1 : 1,
    gradientAt: (s, points) => transformedGradient(points, setting, s.evaluations++),
  };
  const method = options.method ?? PLAIN;
  for (let step = 0; step < params.steps; step++) {
    const gradient = yield* method.gradient(context, state);
    const [x, momentum] = tf.tidy(() => {
      let g = tf.tensor4d(gradient, shape);
      if (params.decay > 0) {
        // MI-FGSM: accumulate L1-normalised gradients per example.
        const l1 = g.abs().mean([1, 2, 3], true);
        const normalised = g.div(l1.add(1e-12));
        g = (state.momentum ? tf.tensor4d(state.momentum, shape).mul(params.decay).add(normalised) : normalised) as tf.Tensor4D;
      }
      const moved = tf.tensor4d(state.x, shape).add(normalize(g, params.norm).mul(context.direction * params.stepSize)) as tf.Tensor4D;
      return [project(moved, tf.tensor4d(original, shape), params.eps, params.norm).dataSync() as Float32Array, g.dataSync() as Float32Array];
    });
    state.x = x;
    state.momentum = momentum;
  }
  return state.x === original ? Float32Array.from(original) : state.x;
}

/** The least-likely class of each image under the surrogate (step-ll, iter-ll). */
export function* leastLikely(batch: AttackBatch): Crafting<Int32Array> {
  const logits = yield* logitsOf(batch.images, batch.labels.length);
  return argRows(logits, logits.length / batch.labels.length, true);
}

/** The surrogate's own prediction for each image (labelSource "predicted"). */
export function* predictedLabels(images: Float32Array, count: number): Crafting<Int32Array> {
  const logits = yield* logitsOf(images, count);
  return argRows(logits, logits.length / Math.max(1, count));
}
