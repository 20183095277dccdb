import type * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACKS } from '../attacks/index.js';
import { architectureFingerprint } from '../compute/architectures.js';
import { currentBackendInfo } from '../compute/backend.js';
import { resolveEngine } from '../compute/engine.js';
import { atomicWrite } from '../common/files.js';
import { loadTfjs, saveTfjs } from '../compute/persist.js';
import type { Surrogate } from '../compute/surrogate.js';
import { accuracy } from '../compute/train.js';
import { predictClasses } from './fidelity.js';
import { resolveStrategyParams } from './params.js';
import { STRATEGIES } from './registry.js';
import type { SubstituteContext, SubstituteRecord } from './types.js';

export interface ObtainOptions {
  /** Folder of the substitute cache (`substitutes/`). */
  readonly cacheDir: string;
  /** false: always retrain (--no-cache); the result is still written. */
  readonly useCache: boolean;
  /** Identifies the target without revealing it: its model's sha256. */
  readonly targetFingerprint: string;
  readonly oracleMode: string;
  /** Identifies the attacker's data (name, split seed, size). */
  readonly dataFingerprint: string;
  /** Held-out images with true labels, for clean accuracy. */
  readonly evaluationImages: Float32Array;
  readonly evaluationLabels: Int32Array;
}

/** Canonical JSON: keys sorted, so the same configuration always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function substituteCacheKey(
  strategy: string,
  params: Readonly<Record<string, number | string>>,
  context: SubstituteContext,
  options: ObtainOptions,
): string {
  const config = {
    strategy,
    params,
    architecture: context.architecture,
    topology: architectureFingerprint(context.architecture, {
      imageShape: context.imageShape,
      classes: context.classes,
      seed: context.seed,
    }),
    // A strategy that places its queries with a generative attack depends on that attack's networks.
    attackNetworks:
      typeof params.attack === 'string' && ATTACKS.has(params.attack)
        ? (ATTACKS.get(params.attack).fingerprint?.(context.imageShape) ?? null)
        : null,
    seed: context.seed,
    budget: context.budget,
    training: context.training,
    target: options.targetFingerprint,
    oracleMode: options.oracleMode,
    data: options.dataFingerprint,
  };
  return hashConfig(config);
}

function hashConfig(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16);
}

/** A tfjs substitute (the caller disposes it), or an owned model's surrogate (the caller disposes that). */
export type ObtainedSubstitute = { readonly record: SubstituteRecord } & (
  | { readonly model: tf.LayersModel; readonly surrogate?: undefined }
  | { readonly surrogate: Surrogate; readonly model?: undefined }
);

/**
 * Trains (or reloads from the cache) a substitute with the named strategy, and records what it
 * cost and how faithful it is. The queries spent are read from the oracle's own counts.
 */
export async function obtainSubstitute(
  strategyName: string,
  params: Readonly<Record<string, number | string>>,
  context: SubstituteContext,
  options: ObtainOptions,
): Promise<ObtainedSubstitute> {
  const strategy = STRATEGIES.get(strategyName);
  const resolved = resolveStrategyParams(strategy, params);
  // The white-box reference is the target's own weights: nothing to cache, and refusing a
  // foreign target must not be bypassed by an earlier cached copy. A model the attacker owns is
  // not trained at all; it has no architecture of ours to key a cache on.
  const cacheable = !strategy.reference && strategy.cacheable !== false;
  const key = cacheable || strategy.reference ? substituteCacheKey(strategyName, params, context, options) : undefined;
  const dir = join(
    options.cacheDir,
    `${strategyName}-${context.architecture}-${options.targetFingerprint.slice(0, 12)}-${key}`,
  );
  const metaPath = join(dir, 'meta.json');
  if (cacheable && options.useCache && existsSync(metaPath)) {
    const record = JSON.parse(readFileSync(metaPath, 'utf8')) as SubstituteRecord;
    return { model: await loadTfjs(dir), record: { ...record, fromCache: true } };
  }
  const before = context.oracle.usage();
  const started = performance.now();
  const result = await strategy.train(context, resolved);
  const trainSeconds = (performance.now() - started) / 1000;
  const after = context.oracle.usage();
  const model = result.model ?? result.surrogate;
  const predicted = await predictClasses(model, options.evaluationImages, context.imageShape, context.classes);
  const last = result.rounds[result.rounds.length - 1];
  const record: SubstituteRecord = {
    strategy: strategyName,
    architecture: context.architecture,
    seed: context.seed,
    budget: context.budget,
    params,
    reference: strategy.reference,
    queriesSpent: after.byPurpose['substitute-training'] - before.byPurpose['substitute-training'],
    evaluationQueries: after.byPurpose.evaluation - before.byPurpose.evaluation,
    fidelity: last?.fidelity ?? (await context.measureFidelity(model)),
    cleanAccuracy: accuracy(predicted, options.evaluationLabels),
    trainSeconds,
    backend: currentBackendInfo().name,
    engine: (await resolveEngine()).name,
    rounds: result.rounds,
    // What is fitted on a surrogate (a generator) is cached under this key: for an owned model
    // it names the model file, so a changed surrogate never reuses what was fitted on another.
    cacheKey:
      key ??
      hashConfig({
        strategy: strategyName,
        params,
        model: result.surrogate?.name ?? null,
        sha256: result.model ? null : result.fingerprint,
      }),
    fromCache: false,
  };
  if (cacheable && result.model) {
    mkdirSync(dir, { recursive: true });
    await saveTfjs(result.model, dir);
    atomicWrite(metaPath, `${JSON.stringify(record, null, 2)}\n`);
  }
  return result.model ? { model: result.model, record } : { surrogate: result.surrogate, record };
}
