import { badOption } from '../common/errors.js';
import type { BudgetedAnswer, ImageBudgetOracle, Oracle, OracleAnswer, OracleMode } from './oracle.js';

/** What the view needs of the oracle it charges: answers for a batch, counted as attack queries. */
export interface AttackQueryRunner extends Pick<Oracle, 'targetName' | 'mode' | 'classes' | 'imageShape'> {
  runAttackQueries(images: Float32Array, count: number): Promise<OracleAnswer>;
}

/**
 * A per-image budget over a target oracle. As with the substitute-training budget, the check
 * and the reservation happen synchronously before any await, so any number of concurrent
 * requests can never take an image past its budget; a request that fails returns its
 * reservations (nothing was answered, nothing is charged).
 */
export class ImageBudgetView implements ImageBudgetOracle {
  readonly targetName: string;
  readonly mode: OracleMode;
  readonly classes: number;
  readonly imageShape: readonly [number, number, number];
  private readonly charged = new Map<number, number>();
  private readonly reserved = new Map<number, number>();

  constructor(
    private readonly runner: AttackQueryRunner,
    readonly perImageBudget: number,
  ) {
    if (!(Number.isInteger(perImageBudget) && perImageBudget >= 1))
      throw badOption('per-image query budget', perImageBudget, 'a positive integer');
    this.targetName = runner.targetName;
    this.mode = runner.mode;
    this.classes = runner.classes;
    this.imageShape = runner.imageShape;
  }

  spent(id: number): number {
    return this.charged.get(id) ?? 0;
  }

  async query(images: Float32Array, ids: readonly number[]): Promise<BudgetedAnswer> {
    const size = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    if (images.length !== ids.length * size)
      throw badOption(
        `${this.targetName}: attack query`,
        `${images.length} values for ${ids.length} ids`,
        `${size} values (one ${this.imageShape.join('x')} image) per id`,
      );
    const answered: number[] = [];
    const refused: number[] = [];
    const taking = new Map<number, number>();
    ids.forEach((id, row) => {
      if (!Number.isInteger(id))
        throw badOption(`${this.targetName}: attack query ids[${row}]`, id, 'an integer image id');
      const used = this.spent(id) + (this.reserved.get(id) ?? 0) + (taking.get(id) ?? 0);
      if (used < this.perImageBudget) {
        answered.push(row);
        taking.set(id, (taking.get(id) ?? 0) + 1);
      } else refused.push(row);
    });
    const shift = (sign: 1 | -1) =>
      taking.forEach((n, id) => this.reserved.set(id, (this.reserved.get(id) ?? 0) + sign * n));
    shift(1);
    try {
      const batch = refused.length === 0 ? images : gatherRows(images, answered, size);
      const answer =
        answered.length === 0
          ? emptyAnswer(this.mode, this.classes)
          : await this.runner.runAttackQueries(batch, answered.length);
      taking.forEach((n, id) => this.charged.set(id, this.spent(id) + n));
      return { answered: Int32Array.from(answered), refused: Int32Array.from(refused), answer };
    } finally {
      shift(-1);
    }
  }
}

function gatherRows(images: Float32Array, rows: readonly number[], size: number): Float32Array {
  const out = new Float32Array(rows.length * size);
  rows.forEach((row, j) => out.set(images.subarray(row * size, (row + 1) * size), j * size));
  return out;
}

function emptyAnswer(mode: OracleMode, classes: number): OracleAnswer {
  const labels = new Int32Array(0);
  if (mode === 'probabilities') return { mode, count: 0, classes, labels, probabilities: new Float32Array(0) };
  if (mode === 'top-k')
    return { mode, count: 0, classes, labels, topK: { k: 0, values: new Float32Array(0), indices: new Int32Array(0) } };
  return { mode, count: 0, classes, labels };
}
