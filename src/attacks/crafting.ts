import { TransferbenchError } from '../common/errors.js';
import type {
  DecayedLossGradient,
  FeatureDecay,
  FeatureGradient,
  FeatureObjectiveGradient,
  FeatureObjectiveRequest,
  LossGradient,
  LossRequest,
  Surrogate,
} from '../compute/surrogate.js';
import type { SyncSurrogate } from '../compute/tfjs-surrogate.js';

/**
 * What an attack asks of its surrogate while it crafts. Attacks are written once, as generators
 * that yield these calls and receive the answers (`yield* lossGradientOf(...)`), so the same code
 * runs against an asynchronous surrogate (onnxruntime, a worker, an ensemble: `drive`) and inside
 * synchronous tfjs training loops (adversarial training: `driveSync`). Between two yields an
 * attack holds typed arrays only, never tensors, so a suspended attack leaks nothing.
 */
export type SurrogateCall =
  | { readonly kind: 'logits'; readonly images: Float32Array; readonly count: number }
  | {
      readonly kind: 'loss-gradient';
      readonly images: Float32Array;
      readonly labels: Int32Array;
      readonly request: LossRequest;
    }
  /** A feature tap (FIA, NAA): the layer's value and d(loss)/d(layer). */
  | {
      readonly kind: 'feature-gradient';
      readonly images: Float32Array;
      readonly labels: Int32Array;
      readonly layer: string;
      readonly request: LossRequest;
    }
  /** A feature objective (FIA's loss, ILA's projection) and its input gradient. */
  | { readonly kind: 'feature-objective'; readonly images: Float32Array; readonly request: FeatureObjectiveRequest }
  /** The loss gradient through the forward pass decayed at a layer (ILPD). */
  | {
      readonly kind: 'decayed-gradient';
      readonly images: Float32Array;
      readonly labels: Int32Array;
      readonly request: LossRequest;
      readonly decay: FeatureDecay;
    }
  /**
   * Asynchronous work of the attack's own (AdvGAN's onnxruntime training steps), awaited between two surrogate calls.
   */
  | { readonly kind: 'task'; readonly run: () => Promise<void> };

export type SurrogateAnswer =
  | Float32Array
  | LossGradient
  | FeatureGradient
  | FeatureObjectiveGradient
  | DecayedLossGradient;

/** What a task's yield receives: whether the driver ran it (awaitTask keeps the result). */
const TASK_RAN = new Float32Array(0);
const TASK_REFUSED = new Float32Array(0);

/** A computation that calls the surrogate and returns T. */
export type Crafting<T> = Generator<SurrogateCall, T, SurrogateAnswer>;

export function* logitsOf(images: Float32Array, count: number): Crafting<Float32Array> {
  return (yield { kind: 'logits', images, count }) as Float32Array;
}

export function* lossGradientOf(
  images: Float32Array,
  labels: Int32Array,
  request: LossRequest,
): Crafting<LossGradient> {
  return (yield { kind: 'loss-gradient', images, labels, request }) as LossGradient;
}

export function* featureGradientOf(
  images: Float32Array,
  labels: Int32Array,
  layer: string,
  request: LossRequest,
): Crafting<FeatureGradient> {
  return (yield { kind: 'feature-gradient', images, labels, layer, request }) as FeatureGradient;
}

export function* featureObjectiveOf(
  images: Float32Array,
  request: FeatureObjectiveRequest,
): Crafting<FeatureObjectiveGradient> {
  return (yield { kind: 'feature-objective', images, request }) as FeatureObjectiveGradient;
}

export function* decayedGradientOf(
  images: Float32Array,
  labels: Int32Array,
  request: LossRequest,
  decay: FeatureDecay,
): Crafting<DecayedLossGradient> {
  return (yield { kind: 'decayed-gradient', images, labels, request, decay }) as DecayedLossGradient;
}

/** The surrogate's feature taps, or a one-line error: the feature-level attacks need them. */
function tapsOf(surrogate: Surrogate) {
  if (surrogate.taps === undefined)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `layer: surrogate ${surrogate.name} has no feature taps; the feature-level attacks (fia, naa, ila) need an ` +
        'ONNX surrogate (the pretrained strategy)',
    );
  return surrogate.taps;
}

/** The surrogate's decayed forward pass, or a one-line error naming what ILPD needs. */
function decayOf(surrogate: Surrogate) {
  const decayed = surrogate.taps?.decayedLossGradient;
  if (surrogate.taps === undefined || decayed === undefined)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `layer: surrogate ${surrogate.name} cannot decay a layer of its forward pass; ilpd needs an ONNX surrogate ` +
        '(a trained substitute or the pretrained strategy), not an ensemble or a tfjs model',
    );
  return decayed.bind(surrogate.taps);
}

function noTaps(surrogate: { readonly name: string }): never {
  throw new TransferbenchError(
    'BAD_CONFIG',
    `layer: surrogate ${surrogate.name} has no feature taps (a synchronous tfjs surrogate); the feature-level ` +
      'attacks need an ONNX surrogate',
  );
}

/** Awaits `run` from inside a crafting computation (`drive` only: a synchronous driver refuses it). */
export function* awaitTask<T>(run: () => Promise<T>): Crafting<T> {
  let result: T | undefined;
  const answer = yield {
    kind: 'task',
    run: async () => {
      result = await run();
    },
  };
  if (answer === TASK_REFUSED)
    throw new TransferbenchError(
      'BAD_OPTION',
      'this computation awaits onnxruntime work, which a synchronous driver (driveSync) cannot; check canAwait() first',
    );
  return result as T;
}

/** Whether the driver awaits tasks (drive) or not (driveSync, inside synchronous tfjs loops). */
export function* canAwait(): Crafting<boolean> {
  return (yield { kind: 'task', run: async () => undefined }) !== TASK_REFUSED;
}

/**
 * Runs a crafting computation against an asynchronous surrogate. A failed call is thrown into the computation, so its
 * `finally` blocks run.
 */
export async function drive<T>(surrogate: Surrogate, crafting: Crafting<T>): Promise<T> {
  let step = crafting.next(undefined as unknown as SurrogateAnswer);
  while (!step.done) {
    const call = step.value;
    let answer: SurrogateAnswer;
    try {
      if (call.kind === 'task') await call.run();
      answer =
        call.kind === 'task'
          ? TASK_RAN
          : call.kind === 'logits'
            ? await surrogate.logits(call.images, call.count)
            : call.kind === 'feature-gradient'
              ? await tapsOf(surrogate).featureGradient(call.images, call.labels, call.layer, call.request)
              : call.kind === 'feature-objective'
                ? await tapsOf(surrogate).featureObjectiveGradient(call.images, call.request)
                : call.kind === 'decayed-gradient'
                  ? await decayOf(surrogate)(call.images, call.labels, call.request, call.decay)
                  : await surrogate.lossGradient(call.images, call.labels, call.request);
    } catch (error) {
      step = crafting.throw(error);
      continue;
    }
    step = crafting.next(answer);
  }
  return step.value;
}

/** Runs a crafting computation against a surrogate that answers synchronously (a tfjs model on this thread). */
export function driveSync<T>(surrogate: SyncSurrogate, crafting: Crafting<T>): T {
  let step = crafting.next(undefined as unknown as SurrogateAnswer);
  while (!step.done) {
    const call = step.value;
    let answer: SurrogateAnswer;
    try {
      answer =
        call.kind === 'task'
          ? TASK_REFUSED
          : call.kind === 'logits'
            ? surrogate.logitsSync(call.images, call.count)
            : call.kind === 'loss-gradient'
              ? surrogate.lossGradientSync(call.images, call.labels, call.request)
              : noTaps(surrogate);
    } catch (error) {
      step = crafting.throw(error);
      continue;
    }
    step = crafting.next(answer);
  }
  return step.value;
}

/** Row-wise argmax (argmin with `lowest`) of count x classes values. */
export function argRows(values: Float32Array, classes: number, lowest = false): Int32Array {
  const count = values.length / classes;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    let bestValue = values[i * classes] as number;
    for (let j = 1; j < classes; j++) {
      const v = values[i * classes + j] as number;
      if (lowest ? v < bestValue : v > bestValue) {
        best = j;
        bestValue = v;
      }
    }
    out[i] = best;
  }
  return out;
}
