import type { LabelSource, Norm, TargetClassSource } from '../attacks/index.js';
import type { EnsembleCombination } from '../compute/ensemble-surrogate.js';
import type { OracleMode } from '../oracle/oracle.js';
import type { OracleIsolation } from '../oracle/pool.js';
import type { TrainingConfig } from '../substitutes/index.js';

/**
 * The shape of a suite, shared by its parser (suite.ts), its grids (grid.ts, query-grid.ts) and
 * the runner: types and defaults only, so those files can all import it and none imports another.
 */

/** The strategy name of a substitute entry that averages its members. */
export const ENSEMBLE = 'ensemble';

/** What a suite's `dataset` may name (checked by parseDatasetSpec in parseSuite). */
export const SUITE_DATASETS = [
  'mnist-embedded',
  'fashion-mnist',
  'image-folder:DIR',
  'cifar10:DIR',
  'idx:IMAGES,LABELS',
  'npy:IMAGES,LABELS',
] as const;

/** A benchmark suite: bench/*.json, checked against bench/suite.schema.json (the schema below). */
export interface Suite {
  $schema?: string;
  /** Names the output folder reports/<name>/. */
  name: string;
  /** A named data set or a spec with paths, as on the command line: one of SUITE_DATASETS. */
  dataset: string;
  /** Seed of the data split, substitute training and random attack starts. */
  seed: number;
  /** Images of the test split every cell is evaluated on. */
  evaluationSize: number;
  /** Zoo target names (targets/<name>/target.json) or paths to target.json files. */
  targets: string[];
  /** `isolation`: where the oracle's sessions run (default "threads"; docs/targets.md, "The oracle"). */
  oracle: { mode: OracleMode; topK?: number; workers?: number; isolation?: OracleIsolation };
  substitutes: {
    /** A strategy, or "ensemble" with `members`. */
    strategy: string;
    architectures?: string[];
    /** Substitute-training query budgets, one substitute per budget. */
    budgets?: number[];
    params?: Record<string, number | string>;
    training?: Partial<TrainingConfig>;
    /** An ensemble's members, whose logits it averages; its queries are the sum of theirs. */
    members?: EnsembleMember[];
    /**
     * How an ensemble combines its members: "logits" (default) or "loss" (for members that cannot backpropagate their
     * logits, such as ONNX surrogates).
     */
    combine?: EnsembleCombination;
  }[];
  /**
   * Attacks by name, optionally with input transformations stacked on them ({ "name": "mi-fgsm", "transforms": ["di",
   * "ti"] }).
   */
  attacks: {
    name: string;
    eps: number[];
    transforms?: string[];
    params?: Record<string, number | boolean | string>;
    /** Targeted: where each image's target class comes from (absent: untargeted). */
    targetClass?: TargetClassSource;
    /**
     * Only on the substitutes of these architectures (default all): a model-related attack that needs what some
     * networks lack (SGM a skip connection, LinBP a layer name of that network) is given a row per network it fits.
     */
    architectures?: string[];
  }[];
  labelSources: LabelSource[];
  /** Clean/adversarial image pairs kept per cell for the report's example grids (default 8; 0: none). */
  examples?: number;
  /** Goodfellow et al.'s rubbish-class inputs: Gaussian noise sent to every target, and the confidence it gets. */
  rubbish?: RubbishSpec;
  /** Query attacks and hybrids with per-image budgets (src/runner/query-grid.ts). */
  queryAttacks?: QuerySuiteSpec;
  /**
   * Independent repetitions of the whole grid: a count (seeds seed, seed+1, ...), a list of seeds, or either with
   * `targets: "retrain"` (zoo targets retrained per replicate too). Each replicate retrains the substitutes from its
   * seed and draws its own evaluation images; the replicate whose seed is the suite's is the unreplicated run.
   */
  replicates?: number | number[] | ReplicatesSpec;
  /** Output folder (default reports/<name>). */
  output?: string;
}

/** What a replicate retrains: the substitutes always; the zoo targets too with "retrain". */
export const REPLICATE_TARGETS = ['fixed', 'retrain'] as const;

export interface ReplicatesSpec {
  count?: number;
  seeds?: number[];
  targets?: (typeof REPLICATE_TARGETS)[number];
}

/** The seeds of a suite's replicates, in order (the suite's own seed alone when it asks for none). */
export function replicateSeeds(suite: Pick<Suite, 'seed' | 'replicates'>): number[] {
  const r = suite.replicates;
  const spec: ReplicatesSpec = typeof r === 'number' ? { count: r } : Array.isArray(r) ? { seeds: r } : (r ?? {});
  return spec.seeds ?? Array.from({ length: spec.count ?? 1 }, (_, i) => suite.seed + i);
}

/** Whether replicates retrain the zoo targets (each from a seed of its own) as well as the substitutes. */
export function retrainsTargets(suite: Pick<Suite, 'replicates'>): boolean {
  const r = suite.replicates;
  return typeof r === 'object' && !Array.isArray(r) && r.targets === 'retrain';
}

/** One substitute of an ensemble: a strategy on one architecture and budget. */
export interface EnsembleMember {
  strategy: string;
  architecture: string;
  budget: number;
  params?: Record<string, number | string>;
  training?: Partial<TrainingConfig>;
}

/** Noise images: pixels ~ N(mean, std) clipped to [0, 1]; `threshold` is the confidence counted as "classified". */
export interface RubbishSpec {
  samples: number;
  mean?: number;
  std?: number;
  threshold?: number;
}

export const DEFAULT_EXAMPLES = 8;
export const DEFAULT_RUBBISH = { mean: 0.5, std: 0.5, threshold: 0.5 } as const;

export const DEFAULT_TRAINING: TrainingConfig = { epochs: 5, batchSize: 64, learningRate: 0.001 };

/** The suite's `queryAttacks` key: query attacks and hybrids with per-image budgets. */
export interface QuerySuiteSpec {
  /** Per-image query budgets; the attacks run at the largest, and success is read at each. */
  budgets: number[];
  /** Images attacked: the first of the evaluation set (default all of them). */
  images?: number;
  /** Oracle modes to attack through (default the suite's); score-based attacks skip label-only ones. */
  oracles?: OracleMode[];
  attacks: QueryAttackSpec[];
}

export interface QueryAttackSpec {
  name: string;
  eps: number[];
  /** Default: the attack's first norm. */
  norm?: Norm;
  params?: Record<string, number | string>;
  /** Hybrid: start from this transfer attack's example, crafted on each of the suite's substitutes. */
  start?: string;
  /** Only these of the suite's query oracle modes (default all that suit the attack). */
  oracles?: OracleMode[];
  /** Hybrids: only the suite's substitutes of these strategies (default all). */
  substitutes?: string[];
  /**
   * Whether success-check queries (a query of the iterate whose answer steers nothing) spend the budget (default
   * true); false charges them apart, as the field's figures usually leave them out.
   */
  countSuccessChecks?: boolean;
  /** This entry's budgets, some of the suite's (default all): it runs at the largest of them. */
  budgets?: number[];
  /** Guided hybrids: one cell consulting all the chosen substitutes as an ensemble (default: a cell per substitute). */
  ensemble?: boolean;
}
