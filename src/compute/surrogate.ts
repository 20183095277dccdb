import { TransferbenchError } from '../common/errors.js';

/**
 * The white-box model an attack is crafted on, whatever computes it: a tfjs substitute, the
 * ONNX graph of a pretrained surrogate run by onnxruntime with a generated backward pass, or an
 * ensemble of either. Attacks see only this: images in, logits, per-image losses and input
 * gradients out. Everything is plain typed arrays so that a backend in another runtime
 * (onnxruntime's native threads) needs no tensor library of ours.
 */

/**
 * Losses a surrogate differentiates, per image i with logits z, label y (the class to move
 * away from, or the target class of a targeted attack) and margin m = z_y - max_{j != y} z_j:
 * - `cross-entropy`: -log softmax(z)_y.
 * - `cw-untargeted`: max(m, -kappa) (Carlini and Wagner's f6; AdvGAN's adversarial loss).
 * - `cw-targeted`: max(-m, -kappa).
 * - `logit`: -z_y, the logit loss of Zhao et al. 2012.11207 (targeted: descending it raises the
 *   target's logit without the vanishing gradient of a saturated softmax).
 * - `po-trip`: Li et al.'s Poincare distance of z / |z|_1 to the target's one-hot (clipped to 1 - 1e-5) plus 0.01
 *   times their triplet term clamp(cos(t, z) - cos(truth, z) + 0.007, 0, 2.1) (CVPR 2020, as Zhao et al.'s code
 *   computes it); needs `trueLabels`, and a surrogate that differentiates it in tfjs.
 * Gradients of a max are taken on the branch that wins (0 where the clamp -kappa wins).
 */
export const SURROGATE_LOSSES = ['cross-entropy', 'cw-untargeted', 'cw-targeted', 'logit', 'po-trip'] as const;
export type SurrogateLoss = (typeof SURROGATE_LOSSES)[number];

export interface LossRequest {
  readonly loss: SurrogateLoss;
  /** Confidence margin of the C&W losses; ignored by cross-entropy. Default 0. */
  readonly kappa?: number;
  /** Po+Trip's true classes, one per image (the triplet's negative). */
  readonly trueLabels?: Int32Array;
  /**
   * The gradient loop's step (0-based) the gradient is for: a surrogate that changes with it (LGV's
   * snapshots, one per step) reads it; every other ignores it. Absent outside the loop.
   */
  readonly iteration?: number;
  /**
   * A model-related variant of the surrogate to take this gradient on (SGM, LinBP, a ghost network): absent, the
   * surrogate itself. Only a surrogate with the model's graph can build one; every other refuses (refuseVariant).
   */
  readonly variant?: ModelVariant;
}

/**
 * What an attack of TransferAttack's model_related/ family asks its surrogate to become for one gradient. The forward
 * pass changes only with `ghost`; `sgm` and `linbp` change the backward pass alone.
 */
export interface ModelVariant {
  /** The attack asking, for error messages. */
  readonly attack: string;
  /** SGM (Wu et al. 2002.05990): residual branches' gradients times gamma in (0, 1] at every skip Add. */
  readonly sgm?: { readonly gamma: number };
  /** LinBP (Guo et al. 2012.03528): every Relu after the value (or node) named `after` backpropagates linearly. */
  readonly linbp?: { readonly after: string };
  /**
   * Ghost networks (Li et al. 1812.03413): each skip connection times lambda ~ U[1 - skipRange, 1 + skipRange] in a
   * residual network, else dropout at `dropRate` on every Relu's output; one ghost per `seed` and iteration.
   */
  readonly ghost?: { readonly skipRange: number; readonly dropRate: number; readonly seed: number };
}

/** The one-line refusal of a surrogate that cannot build a request's model variant. */
export function refuseVariant(surrogate: string, request: LossRequest, why: string): void {
  if (request.variant === undefined) return;
  throw new TransferbenchError(
    'BAD_CONFIG',
    `${request.variant.attack}: surrogate ${surrogate} cannot build a model-related variant: ${why}`,
  );
}

export interface LossGradient {
  /** count x classes, row-major. */
  readonly logits: Float32Array;
  /** One loss value per image. */
  readonly loss: Float32Array;
  /** d(loss_i)/d(image_i), NHWC like the images: each image's gradient is its own. */
  readonly gradient: Float32Array;
}

/** One intermediate value of a model that a feature tap can name (what `targets inspect` lists). */
export interface FeatureLayer {
  /** The value's name in the model's graph. */
  readonly name: string;
  /** The operator that computes it (Conv, Relu, Add, ...). */
  readonly opType: string;
  /** One image's shape of the value, without the batch (e.g. [C, H, W] in an NCHW model). */
  readonly shape: readonly number[];
}

export interface FeatureGradient extends LossGradient {
  /** The layer's value, count x layer size, row-major. */
  readonly feature: Float32Array;
  /** d(loss_i)/d(feature_i), laid out like `feature` (this field's `gradient` is not the images'). */
  readonly gradient: Float32Array;
}

export interface FeatureObjectiveRequest {
  /** A name from `layers()`. */
  readonly layer: string;
  /** count x layer size: w in objective_i = sum((feature_i - reference_i) * w_i). */
  readonly weights: Float32Array;
  /** count x layer size; zero when absent (ILA: the clean images' feature). */
  readonly reference?: Float32Array;
}

export interface FeatureObjectiveGradient {
  /** The layer's value, count x layer size. */
  readonly feature: Float32Array;
  /** objective_i = sum((feature_i - reference_i) * weights_i), one per image. */
  readonly objective: Float32Array;
  /** d(objective_i)/d(image_i), NHWC like the images. */
  readonly gradient: Float32Array;
}

/** ILPD's decayed forward pass (Li et al. 2304.13410): the layer's value h becomes gamma h + (1 - gamma) reference. */
export interface FeatureDecay {
  /** A name from `layers()`. */
  readonly layer: string;
  /** The share of the layer's own value kept: 1 is the plain forward pass, 0 the reference alone. */
  readonly gamma: number;
  /** count x layer size: the constant the layer decays towards; zero when absent. */
  readonly reference?: Float32Array;
}

export interface DecayedLossGradient extends LossGradient {
  /** The layer's own (undecayed) value, count x layer size: ILPD's next reference, read at the noisy clean image. */
  readonly feature: Float32Array;
}

/**
 * Intermediate values of the surrogate for the feature-level attacks (FIA, NAA, ILA): each call
 * runs one forward pass and its backward pass, never a second copy of the forward.
 */
export interface FeatureTaps {
  /** Candidate layers in topological order. */
  layers(): Promise<readonly FeatureLayer[]>;
  /** The layer's value and d(loss)/d(layer), with the logits and losses of lossGradient. */
  featureGradient(
    images: Float32Array,
    labels: Int32Array,
    layer: string,
    request: LossRequest,
  ): Promise<FeatureGradient>;
  /** The gradient with respect to the images of a weighted sum of the layer's value. */
  featureObjectiveGradient(images: Float32Array, request: FeatureObjectiveRequest): Promise<FeatureObjectiveGradient>;
  /** The loss gradient through the forward pass decayed at a layer (ILPD); absent where the backend cannot. */
  decayedLossGradient?(
    images: Float32Array,
    labels: Int32Array,
    request: LossRequest,
    decay: FeatureDecay,
  ): Promise<DecayedLossGradient>;
}

export interface Surrogate {
  /** For logs and leaderboards. */
  readonly name: string;
  /** One image's shape, [H, W, C]; images are NHWC in [0, 1]. */
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  /** Logits (or log-probabilities, for a model that outputs probabilities) of `count` images. */
  logits(images: Float32Array, count: number): Promise<Float32Array>;
  /** Per-image loss and its gradient with respect to the [0, 1] NHWC images. */
  lossGradient(images: Float32Array, labels: Int32Array, request: LossRequest): Promise<LossGradient>;
  /** Feature taps, where the backend has them (the ONNX surrogate); undefined elsewhere. */
  readonly taps?: FeatureTaps;
  /** Releases sessions or tensors; the surrogate is unusable afterwards. */
  dispose(): Promise<void>;
}
