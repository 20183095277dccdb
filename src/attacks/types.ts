import type * as tf from '@tensorflow/tfjs';

/** Fixed vocabularies, shared by the types and the suite schema. */
export const ATTACK_KINDS = ['single-step', 'multi-step', 'optimisation', 'generative'] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

export const NORMS = ['linf', 'l2'] as const;
export type Norm = (typeof NORMS)[number];

/** Where an attack's labels come from: the truth, or the substitute's own prediction (label leaking, Kurakin et al.). */
export const LABEL_SOURCES = ['true', 'predicted'] as const;
export type LabelSource = (typeof LABEL_SOURCES)[number];

/**
 * The differentiable model an attack is crafted on: images (NHWC, [0,1]) to logits. It is a
 * substitute, or a zoo model's own weights as a white-box reference; never a target.
 */
export type LogitsModel = (images: tf.Tensor4D) => tf.Tensor2D;

/** A batch to attack. */
export interface AttackBatch {
  /** NHWC in [0, 1]. */
  readonly images: tf.Tensor4D;
  /** int32 class per image: the class to move away from, or towards when targeted. */
  readonly labels: tf.Tensor1D;
  /**
   * A stable id per image (its index in the evaluation set). Random starts are drawn per id,
   * so an image gets the same perturbation whether it is attacked alone or in a batch.
   */
  readonly ids: readonly number[];
  /**
   * Images (and their labels, already resolved by label source) a generative attack may fit its
   * generator on. Without them AdvGAN fits the attacked batch itself (transductively).
   */
  readonly training?: { readonly images: Float32Array; readonly labels: Int32Array };
  /** A generator already fitted for this model and these parameters (from a cache): used as is. */
  readonly generator?: tf.LayersModel;
}

/** Resolved parameters: every attack reads what it needs; defaults are filled in by the registry. */
export interface AttackParams {
  /** Perturbation budget in the attack's norm (L-inf for the leaderboards). */
  readonly eps: number;
  readonly norm: Norm;
  /** Iterations of the gradient loop (or of the optimiser, for C&W). */
  readonly steps: number;
  /** Step size per iteration. */
  readonly stepSize: number;
  /** Move towards `labels` instead of away from them. */
  readonly targeted: boolean;
  /** Start from a uniformly random point of the eps-ball. */
  readonly randomStart: boolean;
  /** Momentum decay (MI-FGSM). */
  readonly decay: number;
  /** C&W: confidence margin kappa, binary search steps, initial constant, learning rate. */
  readonly confidence: number;
  readonly binarySearchSteps: number;
  readonly initialConst: number;
  readonly learningRate: number;
  /** C&W: clip the L2 result into the L-inf eps-ball so it enters the same leaderboards. */
  readonly clipToLinf: boolean;
  /** AdvGAN: training epochs of the generator, and the weights of its GAN and hinge losses. */
  readonly epochs: number;
  readonly alpha: number;
  readonly beta: number;
  /** AdvGAN: the hinge's bound c on the perturbation's L2 norm. */
  readonly hingeBound: number;
  readonly seed: number;
}

/** A parameter as `transferbench list attacks` shows it. */
export interface ParameterDoc {
  readonly name: keyof AttackParams;
  readonly default: string;
  readonly description: string;
}

export interface Attack {
  readonly name: string;
  readonly kind: AttackKind;
  /** One line with the paper it comes from. */
  readonly description: string;
  /** Whether it reads the labels (step-ll and iter-ll do not: they aim at the least-likely class). */
  readonly usesLabels: boolean;
  readonly parameters: readonly ParameterDoc[];
  /** Parameters this attack fixes or defaults from eps (e.g. BIM's step count). */
  readonly defaults: (eps: number) => Partial<AttackParams>;
  /** Adversarial images for the batch; the caller owns the returned tensor. */
  readonly craft: (model: LogitsModel, batch: AttackBatch, params: AttackParams) => tf.Tensor4D;
  /**
   * For an attack with networks of its own (a generator): a hash of their definition, which
   * caches of what it produced key on, so a changed network is never reloaded from an old cache.
   */
  readonly fingerprint?: (imageShape: readonly [number, number, number]) => string;
}
