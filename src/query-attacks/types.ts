import type { Param, ParamRange } from '../common/params.js';
import type { Random } from '../common/random.js';
import type { OracleMode } from '../oracle/oracle.js';
import type { Norm } from '../attacks/types.js';

/**
 * What an attack reads from the target's answers: score-based attacks need scores
 * (probabilities or top-k), decision-based ones only the label, hybrids also a surrogate.
 */
export const QUERY_ATTACK_KINDS = ['score-based', 'decision-based', 'hybrid'] as const;
export type QueryAttackKind = (typeof QUERY_ATTACK_KINDS)[number];

/** One answered query row, as an attack sees it. */
export interface RowAnswer {
  /** The target's top-1 class. */
  readonly label: number;
  /** Whether the target no longer answers the image's own class. */
  readonly adversarial: boolean;
  /**
   * log p_y - max_{k != y} log p_k (the logit margin, since softmax is shift-invariant), from
   * what the oracle reveals: on top-k answers the best revealed other class (or 1 - p_y when
   * k = 1), and an upper bound when y is not revealed; on labels +1 or -1.
   */
  readonly margin: number;
  /** p_y where revealed (0 when a top-k answer leaves y out; NaN on labels). */
  readonly trueClassProbability: number;
}

/**
 * Why an attack asks a query: `search` rows feed its estimates or steps; a `check` row only asks
 * whether the current iterate already fools the target (its answer steers nothing), the queries
 * the field's figures usually leave out (BlackboxBench's "extra" queries). Whether checks count
 * against the budget is the suite's choice (`countSuccessChecks`).
 */
export const QUERY_ROLES = ['search', 'check'] as const;
export type QueryRole = (typeof QUERY_ROLES)[number];

/** Tuning of a query attack: every attack reads what it needs; defaults come from its spec. */
export type QueryParams = Readonly<Record<string, number | string>>;

/** Everything one image's attack works with: the image, its budgeted queries and its randomness. */
export interface ImageTask {
  readonly id: number;
  /** The clean image, NHWC [0, 1]. */
  readonly clean: Float32Array;
  /** The class to move away from. */
  readonly label: number;
  /** Hybrid start: an adversarial example crafted on a substitute, inside the ball. */
  readonly start?: Float32Array;
  readonly shape: readonly [number, number, number];
  readonly classes: number;
  readonly mode: OracleMode;
  readonly eps: number;
  readonly norm: Norm;
  readonly params: QueryParams;
  /** A stream of its own, forked from the suite seed by attack and image id. */
  readonly random: Random;
  /**
   * Queries the target on `count` rows for this image. Returns their answers, or never returns
   * (the run stops this image) once a row is adversarial inside the ball or the oracle refuses
   * a row because the image's budget is spent.
   */
  query(rows: Float32Array, count: number, role?: QueryRole): Promise<RowAnswer[]>;
  /** The surrogate's loss gradient at `image` (hybrids only): d margin / d image, batched across images. */
  surrogateGradient(image: Float32Array): Promise<Float32Array>;
  /** The surrogates themselves (hybrids only; with none, each call rejects naming the missing surrogate). */
  readonly guide: SurrogateGuide;
  /**
   * The attack's current best point, kept as its result if it stops without success:
   * score-based attacks keep their iterate (inside the ball), decision-based ones their closest
   * adversarial point (possibly outside it; its distance is reported, and the point projected).
   */
  keep(image: Float32Array): void;
}

/**
 * The surrogates a guided hybrid consults (a suite ensemble's members, or one substitute), by
 * index: their logits and the input gradient of any weighting of their logits, which covers a
 * margin (weights e_y - e_j), ODS's random weighting and, summed over models, a weighted
 * ensemble. The run batches each across images.
 */
export interface SurrogateGuide {
  /** How many models; indices run from 0. */
  readonly models: number;
  /** Model m's logits at the image (classes values). */
  logits(image: Float32Array, model: number): Promise<Float32Array>;
  /** d(sum_k weights_k z_k)/d image for model m's logits z. */
  logitGradient(image: Float32Array, weights: Float32Array, model: number): Promise<Float32Array>;
}

/** What a query attack's defaults are computed from. */
export interface QueryContext {
  readonly norm: Norm;
  readonly eps: number;
  readonly shape: readonly [number, number, number];
}

/**
 * A query attack's parameter: one of the one system's (src/common/params.ts), its default from the norm, eps and
 * shape.
 */
export type QueryParam = Param<string, ParamRange, QueryContext>;

export interface QueryAttack {
  readonly name: string;
  readonly kind: QueryAttackKind;
  /** One line with the paper it comes from. */
  readonly description: string;
  readonly norms: readonly Norm[];
  readonly parameters: readonly QueryParam[];
  /** Attacks one image until it returns (gave up) or the run stops it (success or budget). */
  readonly attack: (task: ImageTask) => Promise<void>;
}

/** A parameter's value as a number (resolveQueryParams has checked its type). */
export function numberParam(params: QueryParams, name: string): number {
  return params[name] as number;
}
