import { createHash } from 'node:crypto';
import type { Surrogate } from '../compute/surrogate.js';
import { EnsembleSurrogate } from '../compute/ensemble-surrogate.js';
import type { Dataset } from '../data/index.js';
import { TargetOracle, type OraclePool } from '../oracle/index.js';
import {
  canonicalJson,
  fidelityMeter,
  obtainSubstitute,
  STRATEGIES,
  substituteSurrogate,
  type SubstituteRecord,
} from '../substitutes/index.js';
import type { ResolvedTarget } from '../targets/descriptor.js';
import { openOwnedModel } from '../targets/owned-model.js';
import { openOwnedNetwork } from '../targets/owned-network.js';
import type { SubstituteSpec } from './grid.js';
import { ENSEMBLE, type Suite } from './suite-types.js';

export { ENSEMBLE } from './suite-types.js';

/** The strategy name of an ensemble substitute entry (a combinator of substitutes, not a strategy of its own). */

/** What obtaining a substitute needs from the runner. */
export interface SubstituteSources {
  readonly suite: Suite;
  readonly pool: OraclePool;
  readonly evaluation: Dataset;
  readonly attacker: Dataset;
  readonly cacheDir: string;
  readonly useCache: boolean;
  readonly target: ResolvedTarget;
  /** The target's descriptor when the harness built it (a zoo target), for the white-box reference. */
  readonly whiteBoxModel?: string;
}

export interface ObtainedSurrogate {
  readonly surrogate: Surrogate;
  /**
   * A hash of the weights behind the surrogate (architecture included): two surrogates with the
   * same one compute the same function, so crafting on them gives the same images (a ground-truth
   * substitute trained once per target, for instance).
   */
  readonly weights: string;
  readonly record: SubstituteRecord;
  /** Substitute-training queries spent now (0 for what came from the cache). */
  readonly spentNow: number;
}

/** Trains or reloads one substitute of a strategy and wraps it as a surrogate (the surrogate owns the model). */
async function single(spec: SubstituteSpec, sources: SubstituteSources): Promise<ObtainedSurrogate> {
  const { suite, evaluation } = sources;
  const oracle = new TargetOracle(sources.pool, sources.target, {
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
      attackerImages: sources.attacker.images,
      attackerLabels: sources.attacker.labels,
      imageShape: evaluation.imageShape,
      classes: evaluation.classNames.length,
      measureFidelity: fidelityMeter(oracle, evaluation.images, evaluation.imageShape),
      ...(sources.whiteBoxModel !== undefined ? { whiteBoxModel: sources.whiteBoxModel } : {}),
      openOwnedModel,
      openNetwork: openOwnedNetwork,
    },
    {
      cacheDir: sources.cacheDir,
      useCache: sources.useCache,
      targetFingerprint: sources.target.descriptor.sha256,
      oracleMode: suite.oracle.mode,
      dataFingerprint: `${suite.dataset}/seed${suite.seed}/${sources.attacker.labels.length}`,
      evaluationImages: evaluation.images,
      evaluationLabels: evaluation.labels,
    },
  );
  const { network, record } = obtained;
  // A pretrained model already is a surrogate; its record's key names the model file's sha256.
  if (network === undefined) return { surrogate: obtained.surrogate, weights: record.cacheKey, record, spentNow: 0 };
  // Substitutes come as ONNX networks; attacks see them through the generated backward pass.
  const surrogate = await substituteSurrogate(
    spec.strategy,
    spec.params,
    network,
    `${spec.strategy}/${spec.architecture}/${spec.budget}`,
  );
  // A strategy whose attacks read its network their own way (lgv's snapshot per step) crafts differently on the same
  // bytes with other parameters: its parameters join the weights that crafted images are reused by.
  const surrogateKey = STRATEGIES.get(spec.strategy).surrogateOf ? `+${canonicalJson(spec.params)}` : '';
  return {
    surrogate,
    weights: `${record.onnxSha256 as string}${surrogateKey}`,
    record,
    spentNow: record.fromCache ? 0 : record.queriesSpent,
  };
}

/**
 * The surrogate of a substitute entry: one substitute, or an ensemble of its members' (each
 * trained or reloaded on its own budget and cache key) whose logits are averaged. An ensemble's
 * queries are the sum of its members'; its fidelity is measured like any substitute's once its
 * clean predictions are known (see `ensembleFidelity`).
 */
export async function obtainSurrogate(spec: SubstituteSpec, sources: SubstituteSources): Promise<ObtainedSurrogate> {
  if (spec.members === undefined) return single(spec, sources);
  const parts: ObtainedSurrogate[] = [];
  try {
    for (const member of spec.members) parts.push(await single(member, sources));
    const combination = spec.params.combine === 'loss' ? 'loss' : 'logits';
    const surrogate = EnsembleSurrogate.of(
      `${ENSEMBLE}/${spec.architecture}`,
      parts.map((p) => p.surrogate),
      combination,
    );
    const records = parts.map((p) => p.record);
    const sum = (f: (r: SubstituteRecord) => number) => records.reduce((s, r) => s + f(r), 0);
    const record: SubstituteRecord = {
      strategy: ENSEMBLE,
      architecture: spec.architecture,
      seed: sources.suite.seed,
      budget: spec.budget,
      params: spec.params,
      reference: false,
      queriesSpent: sum((r) => r.queriesSpent),
      evaluationQueries: sum((r) => r.evaluationQueries),
      // Replaced by the ensemble's own agreement with the target once its predictions are known.
      fidelity: Number.NaN,
      cleanAccuracy: Number.NaN,
      trainSeconds: sum((r) => r.trainSeconds),
      backend: records[0]?.backend ?? '',
      rounds: [],
      cacheKey: createHash('sha256')
        .update(records.map((r) => r.cacheKey).join('+'))
        .digest('hex')
        .slice(0, 16),
      fromCache: records.every((r) => r.fromCache),
    };
    return {
      surrogate,
      weights: parts.map((p) => p.weights).join('+'),
      record,
      spentNow: parts.reduce((s, p) => s + p.spentNow, 0),
    };
  } catch (error) {
    for (const part of parts) await part.surrogate.dispose();
    throw error;
  }
}

/** Agreement of clean predictions with the target's, and accuracy on the truth: what a substitute record holds. */
export function agreement(predicted: Int32Array, reference: Int32Array): number {
  let same = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === reference[i]) same++;
  return predicted.length === 0 ? 0 : same / predicted.length;
}
