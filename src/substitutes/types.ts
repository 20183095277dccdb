import type { OnnxNetwork } from '../compute/network/network.js';
import type { Surrogate } from '../compute/surrogate.js';
import type { Oracle } from '../oracle/oracle.js';
import type { OwnedModel } from '../targets/owned-model.js';
import type { AnyParam } from '../common/params.js';
import type { ResolvedParams } from './params.js';

/** How substitutes are fitted, whatever the strategy. */
export interface TrainingConfig {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /**
   * For an architecture given as an ONNX file: fine-tune from its weights (`given`, the default:
   * the attacker starting from a pretrained model) or train its graph from a fresh seeded initialisation.
   */
  readonly init?: 'given' | 'fresh';
}

/**
 * Everything a strategy may use. Of the target it sees only the oracle (and, for the white-box
 * reference, weights the harness hands over for targets it built itself).
 */
export interface SubstituteContext {
  readonly oracle: Oracle;
  /** A registered architecture (NETWORKS), or the path of a target.json-format descriptor of an ONNX file. */
  readonly architecture: string;
  readonly seed: number;
  /** Substitute-training queries the strategy may spend (the oracle enforces it too). */
  readonly budget: number;
  readonly training: TrainingConfig;
  /** The attacker's own images, NHWC [0,1]; distinct from the evaluation images. */
  readonly attackerImages: Float32Array;
  /** True labels of attackerImages: only the ground-truth strategy reads them. */
  readonly attackerLabels: Int32Array;
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  /** Agreement with the target on held-out images; evaluation queries, counted apart. */
  readonly measureFidelity: (model: OnnxNetwork | Surrogate) => Promise<number>;
  /**
   * Reads an architecture given as a descriptor path into a network (the runner supplies it, as
   * openOwnedModel); `fresh` re-initialises its trainable weights from the seed.
   */
  readonly openNetwork?: (
    descriptorPath: string,
    options: { readonly fresh: boolean; readonly seed: number },
  ) => Promise<OnnxNetwork>;
  /** The target's own descriptor (its ONNX graph and weights), for zoo targets only. */
  readonly whiteBoxModel?: string;
  /**
   * Opens a model the attacker owns (an ONNX classifier described in the target.json format) as
   * a white-box surrogate. The runner supplies it, so that substitutes never read descriptors
   * themselves: of the target they only ever see the oracle.
   */
  readonly openOwnedModel?: (descriptorPath: string, options: { readonly threads: number }) => Promise<OwnedModel>;
}

/** Fidelity after one round of a round-based strategy. */
export interface RoundRecord {
  readonly round: number;
  /** Substitute-training queries spent so far. */
  readonly queries: number;
  /** Agreement with the target on the held-out fidelity images. */
  readonly fidelity: number;
  /** Agreement, before refitting, on the points queried this round (dynamic distillation). */
  readonly attackPointAgreement?: number;
}

/** A trained ONNX network (cached as model.onnx), or a ready-made surrogate (never cached). */
export type StrategyResult =
  | { readonly network: OnnxNetwork; readonly surrogate?: undefined; readonly rounds: readonly RoundRecord[] }
  | {
      readonly surrogate: Surrogate;
      readonly network?: undefined;
      readonly rounds: readonly RoundRecord[];
      readonly fingerprint: string;
    };

export interface SubstituteStrategy {
  readonly name: string;
  readonly description: string;
  /** Declared once: `list substitutes` shows them, the suite schema and `resolveStrategyParams` check them. */
  readonly parameters: readonly AnyParam[];
  /** A reference (white-box) rather than an attack setting; marked so in leaderboards. */
  readonly reference: boolean;
  /** false: nothing is trained, so nothing is cached (a model the attacker already owns). */
  readonly cacheable?: boolean;
  /** `params` are checked against `parameters`, defaults filled in. */
  readonly train: (context: SubstituteContext, params: ResolvedParams) => Promise<StrategyResult>;
  /**
   * How attacks see the trained (or cached) network, when not through its own backward pass alone
   * (networkSurrogate): LGV's one snapshot per gradient step.
   */
  readonly surrogateOf?: (network: OnnxNetwork, name: string, params: ResolvedParams) => Promise<Surrogate>;
}

/** What each obtained substitute records (meta.json in its cache folder). */
export interface SubstituteRecord {
  readonly strategy: string;
  readonly architecture: string;
  readonly seed: number;
  readonly budget: number;
  readonly params: Readonly<Record<string, number | string>>;
  readonly reference: boolean;
  /** Substitute-training queries spent, from the oracle's counts. */
  readonly queriesSpent: number;
  /** Evaluation queries spent measuring fidelity. */
  readonly evaluationQueries: number;
  /** Agreement with the target on held-out images. */
  readonly fidelity: number;
  /** Accuracy on the held-out images' true labels. */
  readonly cleanAccuracy: number;
  readonly trainSeconds: number;
  readonly backend: string;
  /** The training engine it was fitted on (absent in records written before engines existed). */
  readonly engine?: string;
  /** sha256 (16 hex digits) of the trained network's ONNX bytes, model.onnx in the cache folder. */
  readonly onnxSha256?: string;
  readonly rounds: readonly RoundRecord[];
  readonly cacheKey: string;
  readonly fromCache: boolean;
}

export type { OwnedModel };
