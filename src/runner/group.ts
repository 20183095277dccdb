import { numberOf } from '../common/params.js';
import {
  attackFor,
  attackIdentity,
  drive,
  resolveParams,
  resolvePoolLabels,
  targetClasses,
  type LabelledImages,
} from '../attacks/index.js';
import type { Surrogate } from '../compute/surrogate.js';
import { loadSplit, parseDatasetSpec, type Dataset } from '../data/index.js';
import { OraclePool, TargetOracle } from '../oracle/index.js';
import { forwardPassesPerQuery } from '../oracle/defences/registry.js';
import { canonicalJson, STRATEGIES, type SubstituteRecord } from '../substitutes/index.js';
import { checkDatasetFitsTarget } from '../targets/check.js';
import { loadTarget, type ResolvedTarget } from '../targets/descriptor.js';
import { craftOnSurrogate, surrogatePredictions, targetLabels, type AttackOutcome } from './evaluate.js';
import { captureExamples } from '../records/examples.js';
import type { Cell } from './grid.js';
import { countOutcomes, fooledFlags, round6 } from '../records/metrics.js';
import { stealth } from '../records/stealth.js';
import { targetedSuccess } from '../records/targeted.js';
import { directoryModelCache } from './model-cache.js';
import { agreement, obtainSurrogate } from './substitute-surrogate.js';
import { strategyIdentity } from './substitute-identity.js';
import type { LedgerEntry } from '../records/ledger.js';
import type { CellResult } from '../records/results.js';
import { DEFAULT_EXAMPLES, type Suite } from './suite.js';
import { replicateEvaluation } from './replicates.js';
import { checkModelRelatedAttacks } from './variant-check.js';
import { retrainsTargets } from './suite-types.js';
import { replicateTargetPath } from './targets.js';

/** Attacker images handed to the attacks that learn from data, unless they ask for another number. */
const ATTACKER_POOL = 2000;

/**
 * How many attacker images a cell's attack learns from: what AdvGAN's `trainImages` asks for,
 * else the first 2,000 (Admix's images of other classes; the pool every result so far was made
 * with).
 */
export function attackerPoolSize(
  cell: Pick<Cell, 'attack' | 'transforms' | 'eps' | 'attackParams'>,
  seed: number,
): number {
  const attack = attackFor(cell.attack, cell.transforms);
  if (!attack.parameters.some((p) => p.name === 'trainImages')) return ATTACKER_POOL;
  return numberOf(resolveParams(attack, cell.eps, { ...cell.attackParams, seed }), 'trainImages', ATTACKER_POOL);
}

function roundedStealth(s: { meanPsnr: number; meanSsim: number }): { meanPsnr: number; meanSsim: number } {
  return { meanPsnr: round6(s.meanPsnr), meanSsim: round6(s.meanSsim) };
}

/** Memory the crafted-images memo may hold per runner (a 1,000-image MNIST cell is 3 MB). */
const MEMO_BYTES = 256 * 1024 * 1024;

/** Where things live for a run; plain data, so it can be sent to a worker process. */
export interface GroupPaths {
  readonly targetsDir: string;
  readonly cacheDir: string;
  readonly useCache: boolean;
}

/** The target's descriptor, if the harness built this target (its weights are the white-box reference's). */
function whiteBoxModel(target: ResolvedTarget): string | undefined {
  return target.descriptor.recipe !== undefined ? target.descriptorPath : undefined;
}

/** Where a finished cell goes: its record, the substitute queries spent now, and the oracle's ledger entry. */
export type OnCellResult = (result: CellResult, substituteQueries: number, charged: LedgerEntry) => void;

/**
 * Runs the cells of (target, substitute) groups with one oracle pool and one copy of the data:
 * obtains each group's substitute once, then attacks and evaluates its cells, reporting each
 * finished cell through `onResult` (which appends it to the ledger and the results file).
 */
export class GroupRunner {
  /** The test split; each replicate's evaluation images are drawn from it (replicateEvaluation). */
  private readonly test: Dataset;
  private readonly evaluations = new Map<number, Dataset>();
  private readonly attacker: Dataset;
  /** The oracle pool of this runner (exposed so tests can kill its workers). */
  readonly pool: OraclePool;
  /** By target and replicate seed: a replicate has its own evaluation images (and, retraining targets, its own). */
  private readonly targets = new Map<string, { target: ResolvedTarget; evaluator: TargetOracle; clean: Int32Array }>();
  /** Cells' crafted images by surrogate weights and attack settings, reused by later groups with the same surrogate. */
  private readonly crafted = new Map<string, AttackOutcome>();

  constructor(
    private readonly suite: Suite,
    private readonly hash: string,
    private readonly paths: GroupPaths,
    oracleWorkers: number,
  ) {
    const split = loadSplit(parseDatasetSpec(suite.dataset), suite.seed);
    // Before any substitute trains: a model-related attack on a network it cannot act on fails now, not hours in.
    checkModelRelatedAttacks(
      suite,
      { imageShape: split.test.imageShape, classes: split.test.classNames.length },
      `suite ${suite.name}`,
    );
    this.test = split.test;
    // The suite's own evaluation images, drawn now so that a wrong evaluationSize fails before anything runs.
    this.evaluationOf(suite.seed);
    this.attacker = split.train;
    this.pool = new OraclePool({ workers: oracleWorkers, isolation: suite.oracle.isolation });
  }

  async run(cells: readonly Cell[], onResult: OnCellResult): Promise<void> {
    const first = cells[0];
    if (first === undefined) return;
    const evaluation = this.evaluationOf(first.seed);
    const entry = await this.target(first.target, first.seed);
    const spec = first.substitute;
    // A replicate retrains its substitutes from its own seed.
    const suite = { ...this.suite, seed: first.seed };
    const weights = whiteBoxModel(entry.target);
    const obtained = await obtainSurrogate(spec, {
      suite,
      pool: this.pool,
      evaluation,
      attacker: this.attacker,
      cacheDir: this.paths.cacheDir,
      useCache: this.paths.useCache,
      target: entry.target,
      ...(weights !== undefined ? { whiteBoxModel: weights } : {}),
    });
    const surrogate = obtained.surrogate;
    try {
      const substituteClean = await surrogatePredictions(surrogate, evaluation.images, evaluation.labels.length);
      // An ensemble's fidelity and accuracy are its own, from its clean predictions (no further queries).
      const record =
        spec.members === undefined
          ? obtained.record
          : {
              ...obtained.record,
              fidelity: agreement(substituteClean, entry.clean),
              cleanAccuracy: agreement(substituteClean, evaluation.labels),
            };
      const pools = new Map<string, LabelledImages>();
      let spent = obtained.spentNow;
      for (const cell of cells) {
        const size = attackerPoolSize(cell, cell.seed);
        let pool = pools.get(`${cell.labelSource}/${size}`);
        if (pool === undefined) {
          pool = await resolvePoolLabels(surrogate, this.attackerPool(size), cell.labelSource);
          pools.set(`${cell.labelSource}/${size}`, pool);
        }
        const { result, charged } = await this.cell(
          cell,
          { surrogate, weights: obtained.weights },
          pool,
          record,
          substituteClean,
          { ...entry, evaluation },
        );
        onResult(result, spent, charged);
        spent = 0;
      }
    } finally {
      await surrogate.dispose();
    }
  }

  /** Keeps a cell's crafted images for later groups, the oldest dropped beyond MEMO_BYTES. */
  private remember(key: string, outcome: AttackOutcome): void {
    this.crafted.set(key, outcome);
    let bytes = 0;
    for (const kept of this.crafted.values()) bytes += kept.adversarial.byteLength;
    for (const [oldest, kept] of this.crafted) {
      if (bytes <= MEMO_BYTES || oldest === key) break;
      bytes -= kept.adversarial.byteLength;
      this.crafted.delete(oldest);
    }
  }

  /**
   * Attacker images a generative attack fits on and Admix mixes in: the first 2,000 of the attacker's split, true
   * labels.
   */
  private attackerPool(count: number): LabelledImages {
    const n = Math.min(count, this.attacker.labels.length);
    const size = this.attacker.images.length / this.attacker.labels.length;
    return { images: this.attacker.images.subarray(0, n * size), labels: this.attacker.labels.subarray(0, n) };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private evaluationOf(seed: number): Dataset {
    let evaluation = this.evaluations.get(seed);
    if (evaluation === undefined) {
      evaluation = replicateEvaluation(this.test, this.suite, seed);
      this.evaluations.set(seed, evaluation);
    }
    return evaluation;
  }

  private async target(
    name: string,
    seed: number,
  ): Promise<{ target: ResolvedTarget; evaluator: TargetOracle; clean: Int32Array }> {
    const key = `${name}\u0000${seed}`;
    let entry = this.targets.get(key);
    const evaluation = this.evaluationOf(seed);
    if (entry === undefined) {
      const path = replicateTargetPath(name, this.paths.targetsDir, this.suite, seed, retrainsTargets(this.suite));
      const target = loadTarget(path);
      checkDatasetFitsTarget(target, evaluation);
      checkDatasetFitsTarget(target, this.attacker);
      // The harness's own measurements read probabilities (for the target's confidence); they
      // are evaluation queries, never part of the attacker's budget or view.
      const evaluator = new TargetOracle(this.pool, target, { mode: 'probabilities' });
      entry = { target, evaluator, clean: (await targetLabels(evaluator, evaluation.images)).labels };
      this.targets.set(key, entry);
    }
    return entry;
  }

  /**
   * One cell: the attack's prepare step (a generative attack fits or loads its generator, through
   * the model cache injected here), crafting on the surrogate, the target's answers, the counts.
   */
  private async cell(
    cell: Cell,
    { surrogate, weights }: { surrogate: Surrogate; weights: string },
    pool: LabelledImages,
    record: SubstituteRecord,
    substituteClean: Int32Array,
    entry: { target: ResolvedTarget; evaluator: TargetOracle; clean: Int32Array; evaluation: Dataset },
  ): Promise<{ result: CellResult; charged: LedgerEntry }> {
    const started = performance.now();
    const evaluation = entry.evaluation;
    const attack = attackFor(cell.attack, cell.transforms);
    const params = resolveParams(attack, cell.eps, { ...cell.attackParams, seed: cell.seed });
    // Crafting is deterministic: the same weights, attack, parameters and images give the same images.
    const memoKey = canonicalJson({
      weights,
      // The same weights see other images in another replicate (a white-box reference on a fixed target).
      evaluation: cell.seed,
      attack: attack.name,
      params,
      labelSource: cell.labelSource,
      ...(cell.targetClass !== undefined ? { targetClass: cell.targetClass } : {}),
    });
    const targets =
      cell.targetClass === undefined
        ? undefined
        : await drive(
            surrogate,
            targetClasses(cell.targetClass, {
              images: evaluation.images,
              trueLabels: evaluation.labels,
              ids: Array.from(evaluation.labels, (_, i) => i),
              classes: surrogate.classes,
              seed: cell.seed,
              ...(evaluation.targetedLabels ? { csvTargets: evaluation.targetedLabels } : {}),
            }),
          );
    let outcome = this.crafted.get(memoKey);
    if (outcome === undefined) {
      const cache = directoryModelCache(
        this.paths.cacheDir,
        `${cell.attack}-${record.strategy}`,
        { substitute: record.cacheKey, strategy: record.strategy, labelSource: cell.labelSource },
        this.paths.useCache,
      );
      const preparing = performance.now();
      const prepared = attack.prepare
        ? await attack.prepare(surrogate, { training: pool, imageShape: evaluation.imageShape, cache }, params)
        : undefined;
      const prepareSeconds = (performance.now() - preparing) / 1000;
      try {
        const crafted = await craftOnSurrogate(
          surrogate,
          { name: cell.attack, transforms: cell.transforms },
          evaluation.images,
          evaluation.labels,
          {
            eps: cell.eps,
            labelSource: cell.labelSource,
            params: cell.attackParams,
            seed: cell.seed,
            pool,
            ...(prepared ? { prepared } : {}),
            ...(targets ? { targetLabels: targets } : {}),
          },
        );
        // Crafting time includes the prepare step (fitting a generator, or loading it from the cache).
        outcome = { ...crafted, craftingSeconds: prepareSeconds + crafted.craftingSeconds };
      } finally {
        await prepared?.dispose();
      }
      this.remember(memoKey, outcome);
    }
    // The ledger reads the oracle's own counter around the one request this cell makes of it.
    const before = entry.evaluator.usage().byPurpose.evaluation;
    const { labels: onTarget, meanConfidence } = await targetLabels(entry.evaluator, outcome.adversarial);
    const charged: LedgerEntry = {
      kind: 'transfer',
      cellId: cell.id,
      index: cell.index,
      suiteHash: this.hash,
      evaluation: entry.evaluator.usage().byPurpose.evaluation - before,
      substituteTraining: record.queriesSpent,
    };
    const outcomes = countOutcomes(
      evaluation.labels,
      { substitute: substituteClean, target: entry.clean },
      { substitute: outcome.substitutePredictions, target: onTarget },
    );
    const mean = (a: Float32Array) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
    const max = (a: Float32Array) => a.reduce((x, y) => Math.max(x, y), 0);
    const examples = captureExamples(
      this.suite.examples ?? DEFAULT_EXAMPLES,
      evaluation.imageShape,
      evaluation.images,
      outcome.adversarial,
      evaluation.labels,
      entry.clean,
      onTarget,
    );
    const identity = attackIdentity(attack, cell.eps, cell.attackParams);
    const strategy = strategyIdentity(cell.substitute);
    const n = evaluation.labels.length;
    const result: CellResult = {
      cellId: cell.id,
      index: cell.index,
      suiteHash: this.hash,
      replicate: cell.replicate,
      seed: cell.seed,
      target: entry.target.descriptor.name,
      strategy: strategy.label,
      strategyParams: strategy.params,
      architecture: cell.substitute.architecture,
      budget: cell.substitute.budget,
      reference: cell.substitute.members === undefined && STRATEGIES.get(cell.substitute.strategy).reference,
      attack: identity.label,
      attackParams: identity.params,
      composition: attack.composition
        ? [attack.composition.method, ...attack.composition.transforms].join('+')
        : attack.name,
      attackKind: attack.kind,
      eps: cell.eps,
      labelSource: cell.labelSource,
      evaluated: n,
      ...outcomes,
      ...fooledFlags(evaluation.labels, { substitute: outcome.substitutePredictions, target: onTarget }),
      ...(targets && cell.targetClass
        ? {
            targetClass: cell.targetClass,
            targetedSuccess: targetedSuccess(evaluation.labels, entry.clean, onTarget, targets),
          }
        : {}),
      targetMeanConfidence: round6(meanConfidence ?? 0),
      substituteQueries: record.queriesSpent,
      substituteFidelity: round6(record.fidelity),
      meanLinf: round6(mean(outcome.linf)),
      maxLinf: round6(max(outcome.linf)),
      meanL2: round6(mean(outcome.l2)),
      maxL2: round6(max(outcome.l2)),
      ...(entry.target.descriptor.defence
        ? {
            targetDefence: entry.target.descriptor.defence.name,
            defencePassesPerQuery: forwardPassesPerQuery(entry.target.descriptor.defence),
          }
        : {}),
      ...roundedStealth(stealth(evaluation.images, outcome.adversarial, evaluation.imageShape)),
      // A cell whose images were crafted for an earlier cell reports the time they took then.
      craftingSeconds: round6(outcome.craftingSeconds),
      imagesPerSecond: round6(n / Math.max(1e-9, outcome.craftingSeconds)),
      seconds: round6((performance.now() - started) / 1000),
      ...(examples ? { examples } : {}),
    };
    return { result, charged };
  }
}
