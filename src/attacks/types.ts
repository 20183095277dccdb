import type { ImageNetwork } from '../compute/network/image-network.js';
import type { ExpectedNetwork } from '../compute/network/image-persist.js';
import type { ModelVariant, Surrogate } from '../compute/surrogate.js';
import type { Crafting } from './crafting.js';
import type { AnyParam, ParamsOf, ParamValues } from '../common/params.js';
import type { Harness, LabelledImages } from './vocabulary.js';
import type { BoundTransform } from './transforms/types.js';

export { NORMS, type LabelledImages, type Norm } from './vocabulary.js';

/** What an attack declaring `L` reads: its own parameters and the harness's, typed by name. */
export type AttackParamsOf<L extends readonly AnyParam[]> = ParamsOf<L> & Harness;

/** Fixed vocabularies, shared by the types and the suite schema. */
export const ATTACK_KINDS = ['single-step', 'multi-step', 'optimisation', 'generative'] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

/**
 * Where an attack's labels come from: the truth, or the substitute's own prediction (label leaking, Kurakin et al.).
 */
export const LABEL_SOURCES = ['true', 'predicted'] as const;
export type LabelSource = (typeof LABEL_SOURCES)[number];

/** A batch to attack: typed arrays, NHWC in [0, 1]. */
export interface AttackBatch {
  readonly images: Float32Array;
  readonly imageShape: readonly [number, number, number];
  /** int32 class per image: the class to move away from, or towards when targeted. */
  readonly labels: Int32Array;
  /** The ground truth, when the labels are targets: Po+Trip's triplet pushes away from it. */
  readonly trueLabels?: Int32Array;
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

/** Something an attack prepared before crafting (a fitted generator); the runner disposes it after the cell. */
export interface Prepared {
  dispose(): void | Promise<void>;
}

/**
 * ONNX networks an attack's prepare step may load and store (a fitted generator), under a key
 * (plain data, hashed by the cache) the attack builds from everything the network depends on.
 * The runner injects it, already scoped to the surrogate and the label source; a cache that is
 * off loads nothing. What is saved names its architecture and training engine, and a load
 * refuses a folder naming others than `expected`.
 */
export interface ModelCache {
  load(key: Readonly<Record<string, unknown>>, expected: ExpectedNetwork): Promise<ImageNetwork | undefined>;
  save(key: Readonly<Record<string, unknown>>, network: ImageNetwork, engine: string): Promise<void>;
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
  readonly parameters: readonly AnyParam[];
  /** Whether input transformations (DI, TI, SI, Admix) apply: attacks on the gradient loop. */
  readonly transformable: boolean;
  /**
   * For a model-related attack (SGM, LinBP, Ghost): the variant of the surrogate every gradient is taken on. Declared
   * here so that a suite is checked against each substitute's network before anything is trained.
   */
  readonly variant?: (params: ParamValues) => ModelVariant;
  /** For a composition: the gradient method it runs and the transformations baked into it. */
  readonly composition?: { readonly method: string; readonly transforms: readonly string[] };
  /** Adversarial images for the batch, crafted through surrogate calls (see crafting.ts). */
  readonly craft: (
    batch: AttackBatch,
    params: ParamValues,
    transforms: readonly BoundTransform[],
  ) => Crafting<Float32Array>;
  /** For an attack that fits something first (a generator): once per cell, before crafting every chunk. */
  readonly prepare?: (surrogate: Surrogate, context: PrepareContext, params: ParamValues) => Promise<Prepared>;
  /**
   * For an attack with networks of its own (a generator): a hash of their definition, which
   * caches of what it produced key on, so a changed network is never reloaded from an old cache.
   */
  readonly fingerprint?: (imageShape: readonly [number, number, number]) => string;
}

/** An attack as its file writes it: craft and prepare read the parameters it declares, typed. */
export interface AttackDefinition<L extends readonly AnyParam[]>
  extends Omit<Attack, 'parameters' | 'craft' | 'prepare' | 'variant'> {
  readonly parameters: L;
  readonly variant?: (params: AttackParamsOf<L>) => ModelVariant;
  readonly craft: (
    batch: AttackBatch,
    params: AttackParamsOf<L>,
    transforms: readonly BoundTransform[],
  ) => Crafting<Float32Array>;
  readonly prepare?: (surrogate: Surrogate, context: PrepareContext, params: AttackParamsOf<L>) => Promise<Prepared>;
}

/**
 * An attack for the registry. The values it is handed are what `resolveAttackParams` made of its own declarations
 * and the harness's, so reading them as `AttackParamsOf<L>` is what they are.
 */
export function defineAttack<const L extends readonly AnyParam[]>(definition: AttackDefinition<L>): Attack {
  const typed = (values: ParamValues) => values as unknown as AttackParamsOf<L>;
  const { craft, prepare, variant, ...rest } = definition;
  return {
    ...rest,
    ...(variant ? { variant: (values: ParamValues) => variant(typed(values)) } : {}),
    craft: (batch, values, transforms) => craft(batch, typed(values), transforms),
    ...(prepare ? { prepare: (surrogate, context, values) => prepare(surrogate, context, typed(values)) } : {}),
  } satisfies Attack;
}
