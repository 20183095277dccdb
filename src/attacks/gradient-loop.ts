import * as tf from '@tensorflow/tfjs';
import { argRows, logitsOf, type Crafting } from './crafting.js';
import { randomPoint } from './norms.js';
import { transformedGradient, type GradientSetting } from './transforms/apply.js';
import type { BoundTransform } from './transforms/types.js';
import type { AttackBatch } from './types.js';
import type { Norm, TransferLoss } from './vocabulary.js';
import type { ModelVariant } from '../compute/surrogate.js';
import { valuesOf } from '../compute/values.js';

/** What the loop carries from one step to the next: typed arrays only (nothing to dispose). */
export interface LoopState {
  readonly original: Float32Array;
  x: Float32Array;
  /** MI-FGSM's accumulated gradient, once a step has run with decay > 0 (the raw gradient with decay 0). */
  momentum?: Float32Array;
  /** VMI/VNI-FGSM's gradient variance from the previous step. */
  variance?: Float32Array;
  /** PI-FGSM's amplified noise accumulated over the steps. */
  amplification?: Float32Array;
  /** Gradient evaluations so far: each names its own random streams (transformations, neighbours). */
  evaluations: number;
}

/** What a gradient method's hook can use. */
export interface LoopContext {
  readonly batch: AttackBatch;
  readonly params: LoopSettings;
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
  /**
   * The step from the accumulated direction to the next point, when the method has its own
   * (PI-FGSM's amplified step and projected noise); otherwise the loop's `update`.
   */
  readonly step?: (context: LoopContext, state: LoopState, direction: Float32Array) => Float32Array;
}

/** I-FGSM, MI-FGSM, PGD: the gradient at the current point. */
export const PLAIN: GradientMethod = { gradient: (context, state) => context.gradientAt(state, state.x) };

/**
 * What the loop runs with: each attack fills it from its own parameters (the fixed ones it does not take, such as
 * FGSM's single step, it sets itself); what an attack leaves out takes the value the comment gives.
 */
export interface LoopParams {
  readonly eps: number;
  readonly steps: number;
  readonly stepSize: number;
  readonly targeted: boolean;
  readonly seed: number;
  /** linf when absent. */
  readonly norm?: Norm;
  /** cross-entropy when absent. */
  readonly loss?: TransferLoss;
  /** false when absent. */
  readonly randomStart?: boolean;
  /** Momentum decay; 0 (none) when absent. */
  readonly decay?: number;
}

/** The loop's parameters with every default filled in. */
export type LoopSettings = Required<LoopParams>;

export interface LoopOptions {
  /** Where to start instead of the clean images (R+FGSM's random step). */
  readonly start?: Float32Array;
  readonly method?: GradientMethod;
  readonly transforms?: readonly BoundTransform[];
  /** The model-related variant of the surrogate every gradient is taken on (SGM, LinBP, Ghost). */
  readonly variant?: ModelVariant;
}

const shapeOf = (batch: AttackBatch): [number, number, number, number] => [batch.labels.length, ...batch.imageShape];

/**
 * The one gradient loop every single- and multi-step attack runs (after Foolbox and
 * TransferAttack): each step takes the method's gradient, accumulates it into the momentum
 * (MI-FGSM: L1-normalised per example, decay mu) when decay > 0, moves by stepSize along the
 * normalised direction (ascending the loss, or descending towards the labels when targeted), then
 * projects into the eps-ball and [0, 1]. FGSM is this loop run once with the whole budget as its step.
 */
export function* gradientLoop(
  batch: AttackBatch,
  loopParams: LoopParams,
  options: LoopOptions = {},
): Crafting<Float32Array> {
  const params: LoopSettings = {
    norm: 'linf',
    loss: 'cross-entropy',
    randomStart: false,
    decay: 0,
    ...loopParams,
  };
  const shape = shapeOf(batch);
  const original = batch.images;
  const start =
    options.start ??
    (params.randomStart
      ? valuesOf(
          tf.tidy(() => randomPoint(tf.tensor4d(original, shape), batch.ids, params.eps, params.norm, params.seed)),
        )
      : original);
  const state: LoopState = { original, x: start, evaluations: 0 };
  const setting: GradientSetting = {
    labels: batch.labels,
    ids: batch.ids,
    imageShape: batch.imageShape,
    transforms: options.transforms ?? [],
    pool: batch.pool ?? { images: batch.images, labels: batch.labels },
    loss: {
      loss: params.loss,
      ...(params.loss === 'po-trip' ? { trueLabels: batch.trueLabels ?? batch.labels } : {}),
      ...(options.variant ? { variant: options.variant } : {}),
    },
  };
  const context: LoopContext = {
    batch,
    params,
    direction: params.targeted ? -1 : 1,
    // Every evaluation of a step (transformed copies, NI's look-ahead, VMI's neighbours) names that step.
    gradientAt: (s, points) =>
      transformedGradient(points, { ...setting, loss: { ...setting.loss, iteration: step } }, s.evaluations++),
  };
  const method = options.method ?? PLAIN;
  let step = 0;
  for (; step < params.steps; step++) {
    const gradient = yield* method.gradient(context, state);
    state.momentum = accumulate(gradient, state.momentum, params.decay, shape);
    state.x = method.step
      ? method.step(context, state, state.momentum)
      : update(state.x, original, state.momentum, params, context.direction, shape);
  }
  return state.x === original ? Float32Array.from(original) : state.x;
}

/**
 * The sign of the papers and of torch.sign: +-1 for every nonzero component, however small, so
 * FGSM moves every pixel whose gradient is not exactly zero (tfjs's wasm sign returns 0 below
 * 2^-23, which on a smooth model left about 5% of FGSM's pixels in place).
 */
export function signOf(v: number): number {
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

/** Sum of |v| (or v^2) over one image's values, in double precision. */
function imageSum(values: Float32Array, from: number, to: number, squared: boolean): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += squared ? (values[i] as number) ** 2 : Math.abs(values[i] as number);
  return sum;
}

/**
 * MI-FGSM's momentum (decay > 0): decay * m + g / mean|g| per image; without decay the raw
 * gradient. Typed-array arithmetic rounded to float32 at every operation, as tfjs computes it.
 */
export function accumulate(
  gradient: Float32Array,
  momentum: Float32Array | undefined,
  decay: number,
  shape: readonly number[],
): Float32Array {
  if (!(decay > 0)) return gradient;
  const [n, h, w, c] = shape as [number, number, number, number];
  const size = h * w * c;
  const f = Math.fround;
  const out = new Float32Array(gradient.length);
  const decay32 = f(decay);
  for (let k = 0; k < n; k++) {
    const l1 = f(f(imageSum(gradient, k * size, (k + 1) * size, false) / size) + f(1e-12));
    for (let i = k * size; i < (k + 1) * size; i++) {
      const normalised = f((gradient[i] as number) / l1);
      out[i] = momentum ? f(f((momentum[i] as number) * decay32) + normalised) : normalised;
    }
  }
  return out;
}

/**
 * One step along the normalised direction (sign for L-inf, unit L2 per image), then the
 * projection into the eps-ball around the original and into [0, 1]. Plain typed-array arithmetic
 * rounded to float32 at every operation: for L-inf it gives the images tfjs's ops gave
 * (norms.ts's normalize and project) bit for bit, at a fraction of the time of a dozen wasm
 * kernel calls per step.
 */
export function update(
  x: Float32Array,
  original: Float32Array,
  direction: Float32Array,
  params: Pick<LoopSettings, 'stepSize' | 'eps' | 'norm'>,
  sign: 1 | -1,
  shape: readonly number[],
): Float32Array {
  const [n, h, w, c] = shape as [number, number, number, number];
  const size = h * w * c;
  const f = Math.fround;
  const step = f(sign * params.stepSize);
  const eps = f(params.eps);
  const out = new Float32Array(x.length);
  for (let k = 0; k < n; k++) {
    const from = k * size;
    const to = from + size;
    if (params.norm === 'linf') {
      for (let i = from; i < to; i++) {
        const moved = f((x[i] as number) + signOf(direction[i] as number) * step);
        const delta = Math.min(Math.max(f(moved - (original[i] as number)), -eps), eps);
        out[i] = Math.min(Math.max(f((original[i] as number) + delta), 0), 1);
      }
      continue;
    }
    const length = f(f(Math.sqrt(imageSum(direction, from, to, true))) + f(1e-12));
    const delta = new Float32Array(size);
    for (let i = from; i < to; i++)
      delta[i - from] = f(
        f((x[i] as number) + f(f((direction[i] as number) / length) * step)) - (original[i] as number),
      );
    const shrink = Math.min(1, f(eps / f(f(Math.sqrt(imageSum(delta, 0, size, true))) + f(1e-12))));
    for (let i = from; i < to; i++)
      out[i] = Math.min(Math.max(f((original[i] as number) + f((delta[i - from] as number) * shrink)), 0), 1);
  }
  return out;
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
