import { perturbationNorms } from '../attacks/index.js';
import { QUERY_ATTACKS, runQueryAttack, type QueryRunOutcome } from '../query-attacks/index.js';
import type { Dataset } from '../data/index.js';
import { OraclePool, TargetOracle } from '../oracle/index.js';
import { rate, round6 } from '../records/metrics.js';
import type { LedgerEntry } from '../records/ledger.js';
import type { QueryCellResult } from '../records/queries.js';
import { figureSeed, queryFigures } from '../records/query-figures.js';
import { fidelityMeter, obtainSubstitute, substituteSurrogate, type SubstituteRecord } from '../substitutes/index.js';
import { checkDatasetFitsTarget } from '../targets/check.js';
import { loadTarget } from '../targets/descriptor.js';
import { craftOnSurrogate } from './evaluate.js';
import { openOwnedModel } from '../targets/owned-model.js';
import { openOwnedNetwork } from '../targets/owned-network.js';
import type { Surrogate } from '../compute/surrogate.js';
import type { GroupPaths } from './group.js';
import { targetDescriptorPath } from './targets.js';
import type { QueryCell } from './query-grid.js';
import type { Suite } from './suite.js';

/**
 * Runs query-attack cells: each attacks the first images of the evaluation set through an
 * oracle whose per-image budget is the cell's largest, and reads the success at every budget
 * from the per-image query counts. Hybrids obtain their substitute as transfer cells do (from
 * the same cache, or a pretrained surrogate), craft the transfer starts on it, or are guided by it.
 */
export class QueryCellRunner {
  readonly pool: OraclePool;

  /** `evaluation` is the suite's evaluation set, `attacker` the split substitutes train on. */
  constructor(
    private readonly suite: Suite,
    private readonly hash: string,
    private readonly paths: GroupPaths,
    private readonly data: { readonly evaluation: Dataset; readonly attacker: Dataset },
    oracleWorkers: number,
  ) {
    this.pool = new OraclePool({ workers: oracleWorkers, isolation: suite.oracle.isolation });
  }

  private get evaluation(): Dataset {
    return this.data.evaluation;
  }

  private get attacker(): Dataset {
    return this.data.attacker;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** The cell's record, and the oracle's ledger entry: what its per-image budget view charged each image. */
  async run(cell: QueryCell): Promise<{ result: QueryCellResult; charged: LedgerEntry }> {
    const started = performance.now();
    const target = loadTarget(targetDescriptorPath(cell.target, this.paths.targetsDir));
    checkDatasetFitsTarget(target, this.evaluation);
    const shape = this.evaluation.imageShape;
    const size = shape[0] * shape[1] * shape[2];
    const images = this.evaluation.images.subarray(0, cell.images * size);
    const labels = this.evaluation.labels.subarray(0, cell.images);
    // An ensemble-guided hybrid consults every member; any other hybrid its one substitute.
    const specs = cell.substitute ? (cell.substitute.members ?? [cell.substitute]) : [];
    const obtained: { surrogate: Surrogate; record: SubstituteRecord }[] = [];
    let outcome: QueryRunOutcome;
    let attackSeconds: number;
    let charged: number[];
    try {
      for (const spec of specs) obtained.push(await this.substitute(spec, target));
      const substitute = obtained[0];
      const starts =
        substitute && cell.start !== null
          ? await this.transferStarts(cell, substitute.surrogate, images, labels)
          : undefined;
      const surrogates = QUERY_ATTACKS.get(cell.attack).kind === 'hybrid' ? obtained.map((o) => o.surrogate) : [];
      const budget = cell.budgets[cell.budgets.length - 1] as number;
      const targetOracle = new TargetOracle(this.pool, target, {
        mode: cell.oracleMode,
        topK: this.suite.oracle.topK ?? 5,
      });
      const oracle = targetOracle.withImageBudget(budget);
      // Checks charged apart get a view of their own: an attack checks at most once per search request, plus once at
      // the start, so budget + 1 never binds before the budget does.
      const checkOracle = cell.countSuccessChecks ? undefined : targetOracle.withImageBudget(budget + 1);
      const attackStarted = performance.now();
      outcome = await runQueryAttack({
        attack: cell.attack,
        oracle,
        images,
        labels,
        ids: Array.from({ length: cell.images }, (_, i) => i),
        eps: cell.eps,
        norm: cell.norm,
        params: cell.params,
        seed: this.suite.seed,
        ...(starts ? { starts } : {}),
        ...(surrogates.length > 0 ? { surrogates } : {}),
        ...(checkOracle ? { checkOracle } : {}),
      });
      attackSeconds = (performance.now() - attackStarted) / 1000;
      charged = Array.from({ length: cell.images }, (_, id) => oracle.spent(id));
    } finally {
      for (const o of obtained) await o.surrogate.dispose();
    }
    const substituteTraining = obtained.reduce((sum, o) => sum + o.record.queriesSpent, 0);
    const result = this.record(
      cell,
      target.descriptor.name,
      outcome,
      substituteTraining,
      images,
      (performance.now() - started) / 1000,
      attackSeconds,
    );
    return {
      result,
      charged: {
        kind: 'query',
        cellId: cell.id,
        index: cell.index,
        suiteHash: this.hash,
        attack: charged,
        substituteTraining,
      },
    };
  }

  private record(
    cell: QueryCell,
    targetName: string,
    outcome: QueryRunOutcome,
    substituteQueries: number,
    images: Float32Array,
    seconds: number,
    attackSeconds: number,
  ): QueryCellResult {
    const n = cell.images;
    const perImage = outcome.images;
    const fooled = perImage.filter((i) => i.success);
    const queries = perImage.map((i) => i.queries);
    const mean = (v: readonly number[]) => (v.length === 0 ? 0 : v.reduce((a, b) => a + b, 0) / v.length);
    const median = (v: readonly number[]) => {
      const s = [...v].sort((a, b) => a - b);
      return s.length === 0
        ? 0
        : s.length % 2 === 1
          ? (s[(s.length - 1) / 2] as number)
          : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
    };
    const within = (budget: number) =>
      perImage.filter((i) => i.queriesToSuccess !== null && i.queriesToSuccess <= budget).length;
    const norms = perturbationNorms(outcome.adversarial, images, n);
    const successful = fooled.map((i) => i.queriesToSuccess as number);
    const total = queries.reduce((a, b) => a + b, 0);
    return {
      cellId: cell.id,
      index: cell.index,
      suiteHash: this.hash,
      // Named as transfer records name it: by the descriptor's name, whatever path the suite gave.
      target: targetName,
      oracleMode: cell.oracleMode,
      attack: cell.attack,
      attackKind: QUERY_ATTACKS.get(cell.attack).kind,
      norm: cell.norm,
      eps: cell.eps,
      start: cell.start === null ? 'clean' : `transfer:${cell.start}`,
      substitute: cell.substitute
        ? (cell.substitute.members ?? [cell.substitute])
            .map((m) => `${m.strategy}/${m.architecture}/${m.budget}`)
            .join('+')
        : '',
      substituteQueries,
      images: n,
      budget: cell.budgets[cell.budgets.length - 1] as number,
      success: rate(fooled.length, n),
      curve: cell.budgets.map((budget) => ({ budget, success: rate(within(budget), n) })),
      queriesToSuccess: perImage.map((i) => i.queriesToSuccess),
      queriesPerImage: queries,
      countSuccessChecks: cell.countSuccessChecks,
      successChecks: perImage.reduce((s, i) => s + i.checks, 0),
      figures: queryFigures(
        perImage.map((i) => i.queriesToSuccess),
        queries,
        cell.budgets[cell.budgets.length - 1] as number,
        figureSeed(cell.id),
      ),
      meanQueries: round6(mean(queries)),
      medianQueries: round6(median(queries)),
      meanQueriesSuccessful: fooled.length > 0 ? round6(mean(successful)) : null,
      medianQueriesSuccessful: fooled.length > 0 ? round6(median(successful)) : null,
      queriesPerImageWithSubstitute: round6(mean(queries) + substituteQueries / n),
      meanDistance: round6(mean(perImage.map((i) => i.distance))),
      medianDistance: round6(median(perImage.map((i) => i.distance))),
      meanLinf: round6(mean(Array.from(norms.linf))),
      meanL2: round6(mean(Array.from(norms.l2))),
      stoppedByBudget: perImage.filter((i) => i.stop === 'budget').length,
      gaveUp: perImage.filter((i) => i.stop === 'gave-up').length,
      queriesPerSecond: round6(total / Math.max(attackSeconds, 1e-9)),
      seconds: round6(seconds),
    };
  }

  /**
   * The hybrid's substitute as a surrogate: one trained here from the cache transfer cells fill (or trained now,
   * spending its queries), or a pretrained one. Disposing the surrogate releases it.
   */
  private async substitute(
    spec: NonNullable<QueryCell['substitute']>,
    target: ReturnType<typeof loadTarget>,
  ): Promise<{ surrogate: Surrogate; record: SubstituteRecord }> {
    const suite = this.suite;
    const evaluation = this.evaluation;
    const oracle = new TargetOracle(this.pool, target, {
      mode: suite.oracle.mode,
      topK: suite.oracle.topK ?? 5,
      budget: spec.budget,
    });
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
        openOwnedModel,
        openNetwork: openOwnedNetwork,
      },
      {
        cacheDir: this.paths.cacheDir,
        useCache: this.paths.useCache,
        targetFingerprint: target.descriptor.sha256,
        oracleMode: suite.oracle.mode,
        dataFingerprint: `${suite.dataset}/seed${suite.seed}/${this.attacker.labels.length}`,
        evaluationImages: evaluation.images,
        evaluationLabels: evaluation.labels,
      },
    );
    // A trained network or a pretrained surrogate: hybrids and transfer starts read either through the Surrogate.
    const surrogate =
      obtained.network !== undefined
        ? await substituteSurrogate(
            spec.strategy,
            spec.params,
            obtained.network,
            `${spec.strategy}/${spec.architecture}/${spec.budget}`,
          )
        : obtained.surrogate;
    return { surrogate, record: obtained.record };
  }

  /**
   * The transfer attack's examples on the substitute (true labels, L-inf eps of the cell), the hybrid's starting
   * points.
   */
  private async transferStarts(
    cell: QueryCell,
    surrogate: Surrogate,
    images: Float32Array,
    labels: Int32Array,
  ): Promise<Float32Array> {
    const outcome = await craftOnSurrogate(surrogate, { name: cell.start as string }, images, labels, {
      eps: cell.eps,
      labelSource: 'true',
      params: {},
      seed: this.suite.seed,
    });
    return outcome.adversarial;
  }
}
