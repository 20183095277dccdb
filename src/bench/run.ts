import type * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ATTACKS } from '../attacks/index.js';
import { TransferbenchError } from '../common/errors.js';
import { argmaxRows, predictLogits } from '../compute/train.js';
import { loadSplit, take, type Dataset } from '../data/index.js';
import { OraclePool, TargetOracle } from '../oracle/index.js';
import { fidelityMeter, obtainSubstitute, STRATEGIES, type SubstituteRecord } from '../substitutes/index.js';
import { loadTarget, type ResolvedTarget } from '../targets/descriptor.js';
import { craftOnSubstitute, targetLabels } from './evaluate.js';
import { expandGrid, shardCells, suiteHash, type Cell, type Shard } from './grid.js';
import { rate, round6 } from './metrics.js';
import { appendResult, readResults, resultsFile, type CellResult } from './results.js';
import type { Suite } from './suite.js';

export interface RunOptions {
  readonly shard: Shard;
  readonly resume: boolean;
  readonly outDir: string;
  /** Where zoo targets live (targets/<name>/target.json). */
  readonly targetsDir: string;
  readonly cacheDir: string;
  readonly useCache: boolean;
  readonly progress: (event: { done: number; total: number; skipped: number; queries: number; cell?: Cell; result?: CellResult }) => void;
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
 * Runs the suite's cells for one shard, appending each finished cell to
 * `<out>/results-K-of-N.jsonl`. Substitutes are obtained once per (target, substitute) group.
 */
export async function runSuite(suite: Suite, options: RunOptions): Promise<{ ran: number; skipped: number; file: string }> {
  const hash = suiteHash(suite);
  const cells = shardCells(expandGrid(suite), options.shard);
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(join(options.outDir, 'suite.json'), `${JSON.stringify({ suiteHash: hash, suite }, null, 2)}\n`);
  const file = resultsFile(options.outDir, options.shard);
  if (existsSync(file) && !options.resume) {
    throw new TransferbenchError('BAD_OPTION', `${file} already exists; pass --resume to continue it, or --out another folder`);
  }
  const previous = readResults(file, true);
  if (previous.some((r) => r.suiteHash !== hash)) {
    throw new TransferbenchError('BAD_OPTION', `${file} holds results of another version of suite ${suite.name}; --out another folder or delete it`);
  }
  const done = new Set(previous.map((r) => r.cellId));
  const pending = cells.filter((c) => !done.has(c.id));
  let finished = cells.length - pending.length;
  let queries = 0;
  options.progress({ done: finished, total: cells.length, skipped: finished, queries });
  if (pending.length === 0) return { ran: 0, skipped: finished, file };

  const split = loadSplit(suite.dataset === 'fashion-mnist' ? { kind: 'fashion-mnist' } : { kind: 'mnist-embedded' }, suite.seed);
  const evaluation = take(split.test, suite.evaluationSize);
  const attacker = split.train;
  const pool = new OraclePool({ workers: suite.oracle.workers ?? 2 });
  const targets = new Map<string, { target: ResolvedTarget; evaluator: TargetOracle; clean: Int32Array }>();
  try {
    for (const group of [...new Set(pending.map((c) => c.group))]) {
      const groupCells = pending.filter((c) => c.group === group);
      const first = groupCells[0] as Cell;
      let entry = targets.get(first.target);
      if (entry === undefined) {
        const target = loadTarget(targetDescriptorPath(first.target, options.targetsDir));
        const evaluator = new TargetOracle(pool, target, { mode: 'label' });
        entry = { target, evaluator, clean: await targetLabels(evaluator, evaluation.images) };
        targets.set(first.target, entry);
      }
      const spec = first.substitute;
      const oracle = new TargetOracle(pool, entry.target, { mode: suite.oracle.mode, topK: suite.oracle.topK ?? 5, budget: spec.budget });
      const weights = whiteBoxWeights(entry.target);
      const { model, record } = await obtainSubstitute(
        spec.strategy,
        spec.params,
        {
          oracle,
          architecture: spec.architecture,
          seed: suite.seed,
          budget: spec.budget,
          training: spec.training,
          attackerImages: attacker.images,
          attackerLabels: attacker.labels,
          imageShape: evaluation.imageShape,
          classes: evaluation.classNames.length,
          measureFidelity: fidelityMeter(oracle, evaluation.images, evaluation.imageShape),
          ...(weights !== undefined ? { whiteBoxWeights: weights } : {}),
        },
        {
          cacheDir: options.cacheDir,
          useCache: options.useCache,
          targetFingerprint: entry.target.descriptor.sha256,
          oracleMode: suite.oracle.mode,
          dataFingerprint: `${suite.dataset}/seed${suite.seed}/${attacker.labels.length}`,
          evaluationImages: evaluation.images,
          evaluationLabels: evaluation.labels,
        },
      );
      queries += record.fromCache ? 0 : record.queriesSpent;
      try {
        const substituteClean = argmaxRows(predictLogits(model, evaluation.images, evaluation.imageShape), evaluation.classNames.length);
        for (const cell of groupCells) {
          const result = await runCell(cell, hash, model, record, substituteClean, entry.clean, entry.evaluator, evaluation, suite.seed);
          appendResult(file, result);
          queries += result.evaluated;
          finished++;
          options.progress({ done: finished, total: cells.length, skipped: cells.length - pending.length, queries, cell, result });
        }
      } finally {
        model.dispose();
      }
    }
  } finally {
    await pool.close();
  }
  return { ran: pending.length, skipped: cells.length - pending.length, file };
}

async function runCell(
  cell: Cell,
  hash: string,
  model: tf.LayersModel,
  record: SubstituteRecord,
  substituteClean: Int32Array,
  targetClean: Int32Array,
  evaluator: TargetOracle,
  evaluation: Dataset,
  seed: number,
): Promise<CellResult> {
  const started = performance.now();
  const n = evaluation.labels.length;
  const outcome = craftOnSubstitute(model, cell.attack, evaluation.images, evaluation.labels, evaluation.imageShape, {
    eps: cell.eps,
    labelSource: cell.labelSource,
    params: cell.attackParams,
    seed,
    classes: evaluation.classNames.length,
  });
  const onTarget = await targetLabels(evaluator, outcome.adversarial);
  let substituteCorrect = 0;
  let targetCorrect = 0;
  let fooledSubstitute = 0;
  let fooledTarget = 0;
  let fooledBoth = 0;
  for (let i = 0; i < n; i++) {
    const truth = evaluation.labels[i];
    if (substituteClean[i] === truth) substituteCorrect++;
    if (targetClean[i] === truth) targetCorrect++;
    const s = outcome.substitutePredictions[i] !== truth;
    const t = onTarget[i] !== truth;
    if (s) fooledSubstitute++;
    if (t) fooledTarget++;
    if (s && t) fooledBoth++;
  }
  const mean = (a: Float32Array) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  const max = (a: Float32Array) => a.reduce((x, y) => Math.max(x, y), 0);
  return {
    cellId: cell.id,
    index: cell.index,
    suiteHash: hash,
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
    substituteQueries: record.queriesSpent,
    substituteFidelity: round6(record.fidelity),
    meanLinf: round6(mean(outcome.linf)),
    maxLinf: round6(max(outcome.linf)),
    meanL2: round6(mean(outcome.l2)),
    maxL2: round6(max(outcome.l2)),
    seconds: round6((performance.now() - started) / 1000),
  };
}
