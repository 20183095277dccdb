import { createHash } from 'node:crypto';
import { TransferbenchError } from '../common/errors.js';

/** What a target reveals per query (fixed by the suite). */
export const ORACLE_MODES = ['probabilities', 'top-k', 'label'] as const;
export type OracleMode = (typeof ORACLE_MODES)[number];

/**
 * Why queries are spent; counted apart. The budget binds substitute training, the attacker's
 * spend; `attack` queries are a query attack's, charged per image against a per-image budget
 * (see ImageBudgetOracle) and only accepted through one.
 */
export const QUERY_PURPOSES = ['substitute-training', 'evaluation', 'attack'] as const;
export type QueryPurpose = (typeof QUERY_PURPOSES)[number];

export interface OracleAnswer {
  readonly mode: OracleMode;
  readonly count: number;
  readonly classes: number;
  /** Top-1 label per image: every mode reveals at least this. */
  readonly labels: Int32Array;
  /** count x classes, in "probabilities" mode only. */
  readonly probabilities?: Float32Array;
  /** count x k values and class indices, largest first, in "top-k" mode only. */
  readonly topK?: { readonly k: number; readonly values: Float32Array; readonly indices: Int32Array };
}

export interface QueryUsage {
  readonly byPurpose: Readonly<Record<QueryPurpose, number>>;
  /** Substitute-training budget; Infinity when unlimited. */
  readonly budget: number;
  readonly remaining: number;
  /** Images actually run through the model (fewer than queries when repeats are deduplicated). */
  readonly physicalInferences: number;
}

/**
 * The black-box boundary. Substitutes and attacks receive an Oracle and nothing else of a
 * target: no weights, no gradients, no file.
 */
export interface Oracle {
  readonly targetName: string;
  readonly mode: OracleMode;
  readonly classes: number;
  readonly imageShape: readonly [number, number, number];
  /** Answers for NHWC [0,1] images; every image asked is one query. */
  query(images: Float32Array, purpose: QueryPurpose): Promise<OracleAnswer>;
  usage(): QueryUsage;
}

/** What a per-image-budget request got back: the rows within budget were answered, the rest refused. */
export interface BudgetedAnswer {
  /** Request rows answered, ascending; `answer` holds them in this order. */
  readonly answered: Int32Array;
  /** Request rows refused (not run, not counted): each would have crossed its image's budget. */
  readonly refused: Int32Array;
  /** The answers for the answered rows (count = answered.length). */
  readonly answer: OracleAnswer;
}

/**
 * The oracle a query attack spends through: every row of a request is one query charged to
 * the image id it is sent for, and the oracle, not the attack, refuses exactly the rows that
 * would take an image past its budget (in request order: the first rows that fit are
 * answered). An attack receives this and nothing else of the target.
 */
export interface ImageBudgetOracle {
  readonly targetName: string;
  readonly mode: OracleMode;
  readonly classes: number;
  readonly imageShape: readonly [number, number, number];
  /** Queries allowed per image id. */
  readonly perImageBudget: number;
  /** Answers `ids.length` NHWC [0,1] images, row r charged to image `ids[r]`. */
  query(images: Float32Array, ids: readonly number[]): Promise<BudgetedAnswer>;
  /** Queries charged to an image so far. */
  spent(id: number): number;
}

export class BudgetExceededError extends TransferbenchError {
  constructor(
    readonly target: string,
    readonly requested: number,
    readonly remaining: number,
  ) {
    super(
      'BAD_OPTION',
      `query budget of target ${target} exceeded: ${requested} queries asked, ${remaining} left; nothing was run`,
    );
    this.name = 'BudgetExceededError';
  }
}

/** Shapes raw probabilities into what the mode reveals. */
export function answerFor(
  mode: OracleMode,
  probabilities: Float32Array,
  count: number,
  classes: number,
  k: number,
): OracleAnswer {
  const labels = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if ((probabilities[r * classes + c] as number) > (probabilities[r * classes + best] as number)) best = c;
    labels[r] = best;
  }
  if (mode === 'label') return { mode, count, classes, labels };
  if (mode === 'probabilities') return { mode, count, classes, labels, probabilities };
  const kk = Math.min(k, classes);
  const values = new Float32Array(count * kk);
  const indices = new Int32Array(count * kk);
  for (let r = 0; r < count; r++) {
    const order = Array.from({ length: classes }, (_, c) => c).sort(
      (a, b) => (probabilities[r * classes + b] as number) - (probabilities[r * classes + a] as number),
    );
    for (let j = 0; j < kk; j++) {
      indices[r * kk + j] = order[j] as number;
      values[r * kk + j] = probabilities[r * classes + (order[j] as number)] as number;
    }
  }
  return { mode, count, classes, labels, topK: { k: kk, values, indices } };
}

/** A content hash per image, for deduplication. */
export function imageKeys(images: Float32Array, count: number): string[] {
  const size = images.length / count;
  return Array.from({ length: count }, (_, i) =>
    createHash('sha1')
      .update(new Uint8Array(images.buffer, images.byteOffset + i * size * 4, size * 4))
      .digest('base64'),
  );
}
