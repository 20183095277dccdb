import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACKS } from '../attacks/index.js';
import { ARCHITECTURES, architectureFingerprint } from '../compute/architectures.js';
import { NETWORKS } from '../compute/network/architectures.js';
import { networkHash, type OnnxNetwork } from '../compute/network/network.js';
import { loadNetwork, saveNetwork } from '../compute/network/persist.js';
import { currentBackendInfo } from '../compute/backend.js';
import { resolveEngine } from '../compute/engine.js';
import { checkTrainable } from '../compute/onnx-train/train.js';
import { atomicWrite } from '../common/files.js';
import type { Surrogate } from '../compute/surrogate.js';
import { accuracy } from '../compute/train.js';
import { predictClasses } from './fidelity.js';
import { isArchitectureFile, newSubstitute } from './fit.js';
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

/**
 * What a substitute's architecture computes, for its cache key: a tfjs-defined one hashes its
 * layer configurations as it always has (so caches from before ONNX networks are found and
 * converted), an ONNX-written one or an ONNX file hashes its initial network's bytes.
 */
async function topologyOf(context: SubstituteContext): Promise<string> {
  const input = { imageShape: context.imageShape, classes: context.classes, seed: context.seed };
  if (!isArchitectureFile(context.architecture) && ARCHITECTURES.has(context.architecture))
    return architectureFingerprint(context.architecture, input);
  if (!isArchitectureFile(context.architecture)) NETWORKS.get(context.architecture);
  return networkHash(await newSubstitute(context));
}

export async function substituteCacheKey(
  strategy: string,
  params: Readonly<Record<string, number | string>>,
  context: SubstituteContext,
  options: ObtainOptions,
): Promise<string> {
  const config = {
    strategy,
    params,
    architecture: context.architecture,
    topology: await topologyOf(context),
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

/** A substitute network, or an owned model's surrogate (the caller disposes it). */
export type ObtainedSubstitute = { readonly record: SubstituteRecord } & (
  | { readonly network: OnnxNetwork; readonly surrogate?: undefined }
  | { readonly surrogate: Surrogate; readonly network?: undefined }
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
  const trained = Object.fromEntries(
    Object.entries(params).filter(([name]) => strategy.parameters.find((p) => p.name === name)?.attackOnly !== true),
  );
  const key =
    cacheable || strategy.reference ? await substituteCacheKey(strategyName, trained, context, options) : undefined;
  const dir = join(
    options.cacheDir,
    `${strategyName}-${folderName(context.architecture)}-${options.targetFingerprint.slice(0, 12)}-${key}`,
  );
  const metaPath = join(dir, 'meta.json');
  if (cacheable && options.useCache && existsSync(metaPath)) {
    const record = JSON.parse(readFileSync(metaPath, 'utf8')) as SubstituteRecord;
    const network = await loadNetwork(dir, context.architecture);
    const onnxSha256 = record.onnxSha256 ?? networkHash(network);
    // A cache from before ONNX networks was converted in place: its record names the new file.
    if (record.onnxSha256 === undefined)
      atomicWrite(metaPath, `${JSON.stringify({ ...record, onnxSha256 }, null, 2)}\n`);
    return { network, record: { ...record, onnxSha256, fromCache: true } };
  }
  // An ONNX file's graph is checked before the strategy queries anything.
  if (isArchitectureFile(context.architecture) && cacheable) await checkTrainable(await newSubstitute(context));
  const before = context.oracle.usage();
  const started = performance.now();
  const result = await strategy.train(context, resolved);
  const trainSeconds = (performance.now() - started) / 1000;
  const after = context.oracle.usage();
  const model = result.network ?? result.surrogate;
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
        sha256: result.network ? null : result.fingerprint,
      }),
    fromCache: false,
  };
  if (result.network === undefined) return { surrogate: result.surrogate, record };
  if (!cacheable) return { network: result.network, record: { ...record, onnxSha256: networkHash(result.network) } };
  mkdirSync(dir, { recursive: true });
  const saved = { ...record, onnxSha256: saveNetwork(result.network, dir) };
  atomicWrite(metaPath, `${JSON.stringify(saved, null, 2)}\n`);
  return { network: result.network, record: saved };
}

/** An architecture as a folder name: a descriptor path becomes its label (the folder of a target.json, or the file). */
function folderName(architecture: string): string {
  if (!isArchitectureFile(architecture)) return architecture;
  const parts = architecture.split(/[\\/]/).filter((p) => p !== '');
  const file = parts[parts.length - 1] ?? architecture;
  return (
    file === 'target.json' && parts.length > 1 ? (parts[parts.length - 2] as string) : file.replace(/\.json$/, '')
  ).replace(/[^A-Za-z0-9._-]/g, '_');
}
