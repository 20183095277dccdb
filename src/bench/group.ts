import type * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { obtainGenerator } from '../attacks/advgan/index.js';
import { ATTACKS, resolveParams, resolveTrainingLabels } from '../attacks/index.js';
import { argmaxRows, predictLogits } from '../compute/train.js';
import { loadSplit, parseDatasetSpec, take, type Dataset } from '../data/index.js';
import { OraclePool, TargetOracle } from '../oracle/index.js';
import { canonicalJson, fidelityMeter, obtainSubstitute, STRATEGIES, type SubstituteRecord } from '../substitutes/index.js';
import { TransferbenchError } from '../common/errors.js';
import { loadTarget, type ResolvedTarget } from '../targets/descriptor.js';
import { openOwnedModel } from '../targets/owned-model.js';
import { craftOnSubstitute, targetLabels } from './evaluate.js';
import { captureExamples } from '../records/examples.js';
import type { Cell } from './grid.js';
import { rate, round6 } from '../records/metrics.js';
import type { CellResult } from '../records/results.js';
import { DEFAULT_EXAMPLES, type Suite } from './suite.js';

/** Where things live for a run; plain data, so it can be sent to a worker thread. */
export interface GroupPaths {
  readonly targetsDir: string;
  readonly cacheDir: string;
  readonly useCache: boolean;
}

export function targetDescriptorPath(name: string, targetsDir: string): string {
  return name.endsWith('.json') ? name : join(targetsDir, name, 'target.json');
}

/** The tfjs weights a zoo build saved beside the descriptor, if the harness built this target. */
function whiteBoxWeights(target: ResolvedTarget): string | undefined {
  const dir = join(dirname(target.descriptorPath), 'tfjs');
  return target.descriptor.recipe !== undefined && existsSync(join(dir, 'model.json')) ? dir : undefined;
}

/**
 * Runs the cells of (target, substitute) groups with one oracle pool and one copy of the data:
 * obtains each group's substitute once, then attacks and evaluates its cells, reporting each
 * finished cell through `onResult` (which appends it to the results file).
 */
export class GroupRunner {
  private readonly evaluation: Dataset;
  private readonly attacker: Dataset;
  /** The oracle pool of this runner (exposed so tests can kill its workers). */
  readonly pool: OraclePool;
  private readonly targets = new Map<string, { target: ResolvedTarget; evaluator: TargetOracle; clean: Int32Array }>();

  constructor(
    private readonly suite: Suite,
    private readonly hash: string,
    private readonly paths: GroupPaths,
    oracleWorkers: number,
  ) {
    const split = loadSplit(parseDatasetSpec(suite.dataset), suite.seed);
    this.evaluation = take(split.test, suite.evaluationSize);
    this.attacker = split.train;
    this.pool = new OraclePool({ workers: oracleWorkers });
  }

  async run(cells: readonly Cell[], onResult: (result: CellResult, substituteQueries: number) => void): Promise<void> {
    const first = cells[0];
    if (first === undefined) return;
    const entry = await this.target(first.target);
    const spec = first.substitute;
    const suite = this.suite;
    const evaluation = this.evaluation;
    const oracle = new TargetOracle(this.pool, entry.target, { mode: suite.oracle.mode, topK: suite.oracle.topK ?? 5, budget: spec.budget });
    const weights = whiteBoxWeights(entry.target);
    const obtained = await obtainSubstitute(
      spec.strategy,
      spec.params,
      {
        oracle,
        architecture: spec.architecture,
        seed: suite.seed,
        budget: spec.budget,
        training: spec.training,
        attackerImages: this.attacker.images,
        attackerLabels: this.attacker.labels,
        imageShape: evaluation.imageShape,
        classes: evaluation.classNames.length,
        measureFidelity: fidelityMeter(oracle, evaluation.images, evaluation.imageShape),
        ...(weights !== undefined ? { whiteBoxWeights: weights } : {}),
        openOwnedModel,
      },
      {
        cacheDir: this.paths.cacheDir,
        useCache: this.paths.useCache,
        targetFingerprint: entry.target.descriptor.sha256,
        oracleMode: suite.oracle.mode,
        dataFingerprint: `${suite.dataset}/seed${suite.seed}/${this.attacker.labels.length}`,
        evaluationImages: evaluation.images,
        evaluationLabels: evaluation.labels,
      },
    );
    const { model, record } = obtained;
    if (model === undefined) {
      await obtained.surrogate.dispose();
      throw new TransferbenchError('BAD_CONFIG', `${spec.strategy}: attacks are crafted on tfjs models until the Surrogate-based attacks land (branch attacks)`);
    }
    try {
      const substituteClean = argmaxRows(predictLogits(model, evaluation.images, evaluation.imageShape), evaluation.classNames.length);
      let spent = record.fromCache ? 0 : record.queriesSpent;
      for (const cell of cells) {
        onResult(await this.cell(cell, model, record, substituteClean, entry), spent);
        spent = 0;
      }
    } finally {
      model.dispose();
    }
  }

  /**
   * For a generative attack, its generator: from the cache (named after the substitute, the
   * resolved parameters and the label source) or fitted now and cached.
   */
  private async generator(cell: Cell, model: tf.LayersModel, record: SubstituteRecord): Promise<tf.LayersModel | undefined> {
    const attack = ATTACKS.get(cell.attack);
    if (attack.kind !== 'generative') return undefined;
    const logits = (x: tf.Tensor4D) => model.apply(x) as tf.Tensor2D;
    const params = resolveParams(attack, cell.eps, { ...cell.attackParams, seed: this.suite.seed });
    const training = resolveTrainingLabels(logits, this.generatorTraining(), cell.labelSource, this.evaluation.imageShape);
    const networks = attack.fingerprint?.(this.evaluation.imageShape) ?? null;
    const key = createHash('sha256').update(canonicalJson({ substitute: record.cacheKey, strategy: record.strategy, params, labelSource: cell.labelSource, images: training.labels.length, networks })).digest('hex').slice(0, 16);
    const dir = join(this.paths.cacheDir, `${cell.attack}-${record.strategy}-${key}`);
    return (await obtainGenerator(logits, training, this.evaluation.imageShape, params, dir, this.paths.useCache)).generator;
  }

  /** The attacker images a generative attack fits on: the first 2,000 of the attacker's split. */
  private generatorTraining(): { images: Float32Array; labels: Int32Array } {
    const n = Math.min(2000, this.attacker.labels.length);
    const size = this.attacker.images.length / this.attacker.labels.length;
    return { images: this.attacker.images.subarray(0, n * size), labels: this.attacker.labels.subarray(0, n) };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async target(name: string): Promise<{ target: ResolvedTarget; evaluator: TargetOracle; clean: Int32Array }> {
    let entry = this.targets.get(name);
    if (entry === undefined) {
      const target = loadTarget(targetDescriptorPath(name, this.paths.targetsDir));
      // The harness's own measurements read probabilities (for the target's confidence); they
      // are evaluation queries, never part of the attacker's budget or view.
      const evaluator = new TargetOracle(this.pool, target, { mode: 'probabilities' });
      entry = { target, evaluator, clean: (await targetLabels(evaluator, this.evaluation.images)).labels };
      this.targets.set(name, entry);
    }
    return entry;
  }

  private async cell(
    cell: Cell,
    model: tf.LayersModel,
    record: SubstituteRecord,
    substituteClean: Int32Array,
    entry: { evaluator: TargetOracle; clean: Int32Array },
  ): Promise<CellResult> {
    const started = performance.now();
    const evaluation = this.evaluation;
    const n = evaluation.labels.length;
    const generator = await this.generator(cell, model, record);
    let outcome;
    try {
      outcome = craftOnSubstitute(model, cell.attack, evaluation.images, evaluation.labels, evaluation.imageShape, {
        eps: cell.eps,
        labelSource: cell.labelSource,
        params: cell.attackParams,
        seed: this.suite.seed,
        classes: evaluation.classNames.length,
        training: this.generatorTraining(),
        ...(generator ? { generator } : {}),
      });
    } finally {
      generator?.dispose();
    }
    const { labels: onTarget, meanConfidence } = await targetLabels(entry.evaluator, outcome.adversarial);
    let substituteCorrect = 0;
    let targetCorrect = 0;
    let fooledSubstitute = 0;
    let fooledTarget = 0;
    let fooledBoth = 0;
    for (let i = 0; i < n; i++) {
      const truth = evaluation.labels[i];
      if (substituteClean[i] === truth) substituteCorrect++;
      if (entry.clean[i] === truth) targetCorrect++;
      const s = outcome.substitutePredictions[i] !== truth;
      const t = onTarget[i] !== truth;
      if (s) fooledSubstitute++;
      if (t) fooledTarget++;
      if (s && t) fooledBoth++;
    }
    const mean = (a: Float32Array) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
    const max = (a: Float32Array) => a.reduce((x, y) => Math.max(x, y), 0);
    const examples = captureExamples(this.suite.examples ?? DEFAULT_EXAMPLES, evaluation.imageShape, evaluation.images, outcome.adversarial, evaluation.labels, entry.clean, onTarget);
    return {
      cellId: cell.id,
      index: cell.index,
      suiteHash: this.hash,
      target: cell.target,
      strategy: cell.substitute.strategy,
      architecture: cell.substitute.architecture,
      budget: cell.substitute.budget,
      reference: STRATEGIES.get(cell.substitute.strategy).reference,
      attack: cell.attack,
      attackKind: ATTACKS.get(cell.attack).kind,
      eps: cell.eps,
      labelSource: cell.labelSource,
      evaluated: n,
      substituteCleanAccuracy: rate(substituteCorrect, n),
      targetCleanAccuracy: rate(targetCorrect, n),
      whiteBoxSuccess: rate(fooledSubstitute, n),
      targetError: rate(fooledTarget, n),
      transferRate: rate(fooledBoth, fooledSubstitute),
      targetMeanConfidence: round6(meanConfidence ?? 0),
      substituteQueries: record.queriesSpent,
      substituteFidelity: round6(record.fidelity),
      meanLinf: round6(mean(outcome.linf)),
      maxLinf: round6(max(outcome.linf)),
      meanL2: round6(mean(outcome.l2)),
      maxL2: round6(max(outcome.l2)),
      seconds: round6((performance.now() - started) / 1000),
      ...(examples ? { examples } : {}),
    };
  }
}
