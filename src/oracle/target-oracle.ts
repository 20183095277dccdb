import { resolveDefence } from './defences/registry.js';
import { badImages, badOption } from '../common/errors.js';
import type { ResolvedTarget } from '../targets/descriptor.js';
import { ImageBudgetView } from './image-budget.js';
import {
  answerFor,
  BudgetExceededError,
  imageKeys,
  type ImageBudgetOracle,
  type Oracle,
  type OracleAnswer,
  type OracleMode,
  type QueryPurpose,
  type QueryUsage,
} from './oracle.js';
import type { OraclePool } from './pool.js';

export interface TargetOracleOptions {
  readonly mode: OracleMode;
  /** k for "top-k" mode (default 5). */
  readonly topK?: number;
  /** Substitute-training queries allowed (default unlimited). */
  readonly budget?: number;
  /** Answer repeated images from a cache: they still count as queries, not as inferences. */
  readonly deduplicate?: boolean;
}

/**
 * An Oracle over one target in the pool. Budget checks and reservations happen synchronously
 * before any await, so concurrent callers can never overspend; a request that fails returns
 * its reservation (nothing was answered).
 */
export class TargetOracle implements Oracle {
  readonly targetName: string;
  readonly mode: OracleMode;
  readonly classes: number;
  readonly imageShape: readonly [number, number, number];
  private readonly counts: Record<QueryPurpose, number> = { 'substitute-training': 0, evaluation: 0, attack: 0 };
  private reserved = 0;
  private physical = 0;
  private readonly budget: number;
  private readonly cache = new Map<string, Float32Array>();

  /**
   * The descriptor (model path, defence and its seed) in a true private field: code holding this oracle, an attack
   * or a substitute, cannot reach it even by reflection; only the pool's tasks carry it to the worker.
   */
  readonly #target: ResolvedTarget;

  constructor(
    private readonly pool: OraclePool,
    target: ResolvedTarget,
    private readonly options: TargetOracleOptions,
  ) {
    this.#target = target;
    const d = target.descriptor;
    this.targetName = d.name;
    this.mode = options.mode;
    this.classes = d.classNames.length;
    const [a, b, c] = d.inputShape as [number, number, number];
    this.imageShape = d.layout === 'NHWC' ? [a, b, c] : [b, c, a];
    this.budget = options.budget ?? Number.POSITIVE_INFINITY;
    // A defence's name and parameters are checked here, once, not in the worker on every batch.
    if (d.defence) resolveDefence(d.defence, `${target.descriptorPath}: defence`);
  }

  async query(images: Float32Array, purpose: QueryPurpose): Promise<OracleAnswer> {
    const size = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    const count = images.length / size;
    if (!Number.isInteger(count)) throw badImages(this.targetName, images.length, this.imageShape);
    if (purpose === 'attack')
      throw badOption(
        `${this.targetName}: query purpose`,
        purpose,
        '"substitute-training" or "evaluation"; attack queries go through withImageBudget(budget).query(images, ids)',
      );
    if (purpose === 'substitute-training') {
      const remaining = this.budget - this.counts['substitute-training'] - this.reserved;
      if (count > remaining) throw new BudgetExceededError(this.targetName, count, remaining);
      this.reserved += count;
    }
    try {
      return await this.answer(images, count, purpose);
    } finally {
      if (purpose === 'substitute-training') this.reserved -= count;
    }
  }

  /**
   * A view of this oracle for a query attack: each image id may be queried `perImageBudget`
   * times, enforced here; its queries count under the purpose `attack`. Each view keeps its own
   * per-image counts, so every attack run gets the full budget per image.
   */
  withImageBudget(perImageBudget: number): ImageBudgetOracle {
    return new ImageBudgetView(
      {
        targetName: this.targetName,
        mode: this.mode,
        classes: this.classes,
        imageShape: this.imageShape,
        runAttackQueries: (images, count) => this.answer(images, count, 'attack'),
      },
      perImageBudget,
    );
  }

  private async answer(images: Float32Array, count: number, purpose: QueryPurpose): Promise<OracleAnswer> {
    const size = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    const probabilities = await this.probabilities(images, count, size);
    this.counts[purpose] += count;
    return answerFor(this.mode, probabilities, count, this.classes, this.options.topK ?? 5);
  }

  private async probabilities(images: Float32Array, count: number, size: number): Promise<Float32Array> {
    if (!this.options.deduplicate) {
      const answer = await this.pool.infer(this.#target, images, count);
      this.physical += count;
      return answer.probabilities;
    }
    const keys = imageKeys(images, count);
    const missing = [...new Set(keys.filter((k) => !this.cache.has(k)))];
    if (missing.length > 0) {
      const firstIndex = new Map<string, number>();
      keys.forEach((k, i) => firstIndex.has(k) || firstIndex.set(k, i));
      const batch = new Float32Array(missing.length * size);
      missing.forEach((k, j) =>
        batch.set(
          images.subarray((firstIndex.get(k) as number) * size, ((firstIndex.get(k) as number) + 1) * size),
          j * size,
        ),
      );
      const answer = await this.pool.infer(this.#target, batch, missing.length);
      this.physical += missing.length;
      missing.forEach((k, j) =>
        this.cache.set(k, answer.probabilities.slice(j * this.classes, (j + 1) * this.classes)),
      );
    }
    const out = new Float32Array(count * this.classes);
    keys.forEach((k, i) => out.set(this.cache.get(k) as Float32Array, i * this.classes));
    return out;
  }

  usage(): QueryUsage {
    return {
      byPurpose: { ...this.counts },
      budget: this.budget,
      remaining: this.budget - this.counts['substitute-training'],
      physicalInferences: this.physical,
    };
  }
}
