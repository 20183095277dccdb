import type * as tf from '@tensorflow/tfjs';
import type { Surrogate } from '../compute/surrogate.js';
import type { Crafting } from './crafting.js';
import type { ParamSpec } from './params.js';
import type { InputTransform } from './transforms/types.js';

/** Fixed vocabularies, shared by the types and the suite schema. */
export const ATTACK_KINDS = ['single-step', 'multi-step', 'optimisation', 'generative'] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

export const NORMS = ['linf', 'l2'] as const;
export type Norm = (typeof NORMS)[number];

/**
 * Where an attack's labels come from: the truth, or the substitute's own prediction (label leaking, Kurakin et al.).
 */
export const LABEL_SOURCES = ['true', 'predicted'] as const;
export type LabelSource = (typeof LABEL_SOURCES)[number];

/** Images with their labels (the attacker's own, for generative attacks to fit on and Admix to mix in). */
export interface LabelledImages {
  readonly images: Float32Array;
  readonly labels: Int32Array;
}

/** A batch to attack: typed arrays, NHWC in [0, 1]. */
export interface AttackBatch {
  readonly images: Float32Array;
  readonly imageShape: readonly [number, number, number];
  /** int32 class per image: the class to move away from, or towards when targeted. */
  readonly labels: Int32Array;
  /**
   * A stable id per image (its index in the evaluation set). Random starts and transformations
   * are drawn per id, so an image gets the same perturbation whether attacked alone or in a batch.
   */
  readonly ids: readonly number[];
  /**
   * Labelled attacker images that are not the batch: Admix mixes images of other classes from
   * here (from the batch itself when absent), AdvGAN fits on them when it has no prepared generator.
   */
  readonly pool?: LabelledImages;
  /** What the attack's `prepare` step produced (a fitted generator), when it has one. */
  readonly prepared?: Prepared;
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
  /** AdvGAN: attacker images its generator trains on. */
  readonly trainImages: number;
  /** AdvGAN: the hinge's bound c on the perturbation's L2 norm. */
  readonly hingeBound: number;
  /** VMI/VNI-FGSM: neighbours sampled for the gradient variance, and their radius in units of eps. */
  readonly neighbours: number;
  readonly neighbourhood: number;
  /** DI: padded size relative to the image, and the probability of transforming. */
  readonly resizeRate: number;
  readonly diversityProb: number;
  /** TI: side of the Gaussian kernel smoothing the gradient. */
  readonly kernelSize: number;
  /** SI and Admix: scale copies; Admix: images mixed in per copy and their weight. */
  readonly scaleCopies: number;
  readonly admixCopies: number;
  readonly admixStrength: number;
  /**
   * PI-FGSM: the step's amplification factor beta, the projection kernel's side and the projected noise's size gamma.
   */
  readonly amplification: number;
  readonly projectionKernel: number;
  readonly projectionFactor: number;
  readonly seed: number;
}

/** Something an attack prepared before crafting (a fitted generator); the runner disposes it after the cell. */
export interface Prepared {
  dispose(): void;
}

/**
 * Models an attack's prepare step may load and store (a fitted generator), under a key (plain
 * data, hashed by the cache) the attack builds from everything the model depends on. The runner
 * injects it, already scoped to the surrogate and the label source; a cache that is off loads nothing.
 */
export interface ModelCache {
  load(key: Readonly<Record<string, unknown>>): Promise<tf.LayersModel | undefined>;
  save(key: Readonly<Record<string, unknown>>, model: tf.LayersModel): Promise<void>;
}

export interface PrepareContext {
  /** Attacker images, labels already resolved by the cell's label source. */
  readonly training: LabelledImages;
  readonly imageShape: readonly [number, number, number];
  readonly cache: ModelCache;
}

export interface Attack {
  readonly name: string;
  readonly kind: AttackKind;
  /** One line with the paper it comes from. */
  readonly description: string;
  /** Whether it reads the labels (step-ll and iter-ll do not: they aim at the least-likely class). */
  readonly usesLabels: boolean;
  /** The parameters it takes, with its defaults (declared once: defaults, docs and the suite schema come from here). */
  readonly parameters: readonly ParamSpec[];
  /** Whether input transformations (DI, TI, SI, Admix) apply: attacks on the gradient loop. */
  readonly transformable: boolean;
  /** For a composition: the gradient method it runs and the transformations baked into it. */
  readonly composition?: { readonly method: string; readonly transforms: readonly string[] };
  /** Adversarial images for the batch, crafted through surrogate calls (see crafting.ts). */
  readonly craft: (
    batch: AttackBatch,
    params: AttackParams,
    transforms: readonly InputTransform[],
  ) => Crafting<Float32Array>;
  /** For an attack that fits something first (a generator): once per cell, before crafting every chunk. */
  readonly prepare?: (surrogate: Surrogate, context: PrepareContext, params: AttackParams) => Promise<Prepared>;
  /**
   * For an attack with networks of its own (a generator): a hash of their definition, which
   * caches of what it produced key on, so a changed network is never reloaded from an old cache.
   */
  readonly fingerprint?: (imageShape: readonly [number, number, number]) => string;
}
