import * as tf from '@tensorflow/tfjs';
import { badOption, TransferbenchError } from '../common/errors.js';
import { fasterEngine, measureEngines, type EngineMeasurement, type MeasureOptions } from './engine-measure.js';
import type { OnnxNetwork } from './network/network.js';
import { trainNetworkOnTfjs } from './network/to-tfjs.js';
import { trainNetworkOnOnnxruntime, trainOnOnnxruntime } from './onnx-train/train.js';
import { trainClassifier, type TrainingSet, type TrainOptions, type TrainResult } from './train.js';

/**
 * Training engines: where substitutes and targets are fitted. `tfjs` runs the model's own
 * training on the tfjs backend (see backend.ts); `onnxruntime` runs a generated training graph
 * (src/compute/onnx-train/) natively on `threads` cores and writes the weights back into the
 * tfjs model, so saving, export and the caches are unchanged.
 */
export const ENGINE_NAMES = ['onnxruntime', 'tfjs'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
/** What --engine accepts: an engine, or `auto` to time both here and train on the faster. */
export const ENGINE_REQUESTS = [...ENGINE_NAMES, 'auto'] as const;
export type EngineRequest = (typeof ENGINE_REQUESTS)[number];

/** What a report's manifest records about the training engine. */
export interface EngineInfo {
  readonly name: EngineName;
  /**
   * onnxruntime threads (onnxruntime only): as many one-thread replicas of the step, each a share of the batch, or one
   * session's intra-op threads for BatchNormalization in training mode (onnx-train/train.ts) and for AdvGAN's networks.
   */
  readonly threads?: number;
  /** Where the optimiser step runs (onnxruntime only): graph nodes or typed arrays. */
  readonly optimizer?: 'in-graph' | 'typed-arrays';
  /** Present when the engine was chosen by timing both (`auto`): what was measured. */
  readonly measured?: EngineMeasurement;
}

/**
 * The engine when neither --engine nor TRANSFERBENCH_ENGINE names one. Beside tfjs on wasm or
 * cpu it is onnxruntime, measured 3.3-6.3x faster on the models the benchmark trains (README, "Training
 * engine"). Beside native TensorFlow (tfjs-node, tfjs-node-gpu; a GPU perhaps) nothing measured
 * here says which is faster, so it is `auto`: both are timed on this machine before training.
 */
export function defaultEngine(backend: string = tf.getBackend()): EngineRequest {
  return backend === 'tensorflow' ? 'auto' : 'onnxruntime';
}
const DEFAULT_THREADS = 1;
/** The faster of the two optimiser placements on this machine (README, "Training engine"). */
const OPTIMIZER_IN_GRAPH = false;

let current: EngineInfo | undefined;

/**
 * Checks a request (--engine, then TRANSFERBENCH_ENGINE; --train-threads, then TRANSFERBENCH_TRAIN_THREADS) without
 * acting on it.
 */
export function checkEngineRequest(
  requested: string | undefined = envValue('TRANSFERBENCH_ENGINE'),
  threads: string | number | undefined = envValue('TRANSFERBENCH_TRAIN_THREADS'),
): { name: EngineRequest | undefined; threads: number } {
  if (requested !== undefined && !(ENGINE_REQUESTS as readonly string[]).includes(requested))
    throw badOption('--engine (or TRANSFERBENCH_ENGINE)', requested, `one of ${ENGINE_REQUESTS.join(', ')}`);
  const count = threads === undefined ? DEFAULT_THREADS : Number(threads);
  if (!Number.isInteger(count) || count < 1)
    throw badOption('--train-threads (or TRANSFERBENCH_TRAIN_THREADS)', threads, 'a positive integer');
  return { name: requested as EngineRequest | undefined, threads: count };
}

function infoOf(name: EngineName, threads: number): EngineInfo {
  return name === 'tfjs'
    ? { name: 'tfjs' }
    : { name: 'onnxruntime', threads, optimizer: OPTIMIZER_IN_GRAPH ? 'in-graph' : 'typed-arrays' };
}

/**
 * Chooses a named training engine (the one requested, else the environment's, else the default)
 * without measuring; `auto` needs `resolveEngine`, which times both.
 */
export function useEngine(
  requested: string | undefined = envValue('TRANSFERBENCH_ENGINE'),
  threads: string | number | undefined = envValue('TRANSFERBENCH_TRAIN_THREADS'),
): EngineInfo {
  const request = checkEngineRequest(requested, threads);
  const name = request.name ?? defaultEngine();
  if (name === 'auto')
    throw new TransferbenchError(
      'BAD_OPTION',
      'the training engine is to be chosen by measurement (--engine ' +
        'auto, or the default beside native TensorFlow); resolveEngine() ' +
        'times both engines first',
    );
  current = infoOf(name, request.threads);
  return current;
}

/**
 * The engine to train on, measuring when the request (or the default) is `auto`: the small
 * CNN's step is timed on both engines here, and the faster is kept for the rest of the process;
 * worker threads get it in their data (`adoptEngine`) and never time again. The measurement travels in the
 * EngineInfo into every manifest.
 */
export async function resolveEngine(
  requested: string | undefined = envValue('TRANSFERBENCH_ENGINE'),
  threads: string | number | undefined = envValue('TRANSFERBENCH_TRAIN_THREADS'),
  measure: (options: MeasureOptions) => Promise<EngineMeasurement> = measureEngines,
): Promise<EngineInfo> {
  if (current) return current;
  const request = checkEngineRequest(requested, threads);
  const name = request.name ?? defaultEngine();
  if (name !== 'auto') return infoOf(name, request.threads);
  const measured = await measure({ threads: request.threads });
  current = { ...infoOf(fasterEngine(measured), request.threads), measured };
  return current;
}

/**
 * Takes an engine chosen elsewhere (the main thread's measurement, handed to a worker thread in
 * its data), so that every group of a run trains on one engine without timing again.
 */
export function adoptEngine(engine: EngineInfo): void {
  current = engine;
}

/**
 * The engine in use: the one chosen or measured, else the environment's, else the default for
 * the active backend (not remembered: it follows the backend). Where that is `auto` and nothing
 * was measured yet, it says so: `resolveEngine` must run first.
 */
export function currentEngineInfo(): EngineInfo {
  if (current) return current;
  const chosen = useEngine();
  current = undefined;
  return chosen;
}

/** One line on the engine, with what was timed when it was measured ("onnxruntime (1 thread; measured: ...)"). */
export function describeEngine(engine: EngineInfo): string {
  const details = [
    engine.threads !== undefined ? `${engine.threads} thread${engine.threads === 1 ? '' : 's'}` : undefined,
  ];
  const m = engine.measured;
  if (m)
    details.push(
      `chosen by measurement: ${m.model} Adam step, batch ${m.batch}: ` +
        `onnxruntime ${m.imagesPerSecond.onnxruntime.toFixed(0)} img/s, ` +
        `tfjs (${m.backend}) ${m.imagesPerSecond.tfjs.toFixed(0)} img/s`,
    );
  const shown = details.filter((d) => d !== undefined);
  return shown.length > 0 ? `${engine.name} (${shown.join('; ')})` : engine.name;
}

/** Forgets the engine chosen, so the environment and the default apply again (tests). */
export function resetEngine(): void {
  current = undefined;
}

/** Fits `model` to `set` on the current engine (or the one given). */
export async function trainModel(
  model: tf.LayersModel,
  set: TrainingSet,
  options: TrainOptions,
  chosen?: EngineInfo,
): Promise<TrainResult> {
  const engine = chosen ?? (await resolveEngine());
  if (engine.name === 'tfjs') return trainClassifier(model, set, options);
  return trainOnOnnxruntime(model, set, options, {
    threads: engine.threads ?? DEFAULT_THREADS,
    optimizerInGraph: engine.optimizer === 'in-graph',
  });
}

/**
 * Fits an ONNX network to `set` on the current engine (or the one given); returns the trained
 * network, and the snapshots `snapshotsPerEpoch` asks for (none otherwise).
 */
export async function trainNetwork(
  network: OnnxNetwork,
  set: TrainingSet,
  options: TrainOptions,
  chosen?: EngineInfo,
): Promise<{ network: OnnxNetwork; result: TrainResult; snapshots: OnnxNetwork[] }> {
  const engine = chosen ?? (await resolveEngine());
  if (engine.name === 'tfjs') {
    if (options.sgd !== undefined || options.snapshotsPerEpoch !== undefined)
      throw new TransferbenchError(
        'BAD_OPTION',
        '--engine tfjs trains with Adam and keeps no snapshots; SGD epochs and weight snapshots (lgv, swa) need ' +
          '--engine onnxruntime',
      );
    return { ...(await trainNetworkOnTfjs(network, set, options)), snapshots: [] };
  }
  return trainNetworkOnOnnxruntime(network, set, options, {
    threads: engine.threads ?? DEFAULT_THREADS,
    optimizerInGraph: engine.optimizer === 'in-graph',
  });
}

function envValue(key: string): string | undefined {
  const value = process.env[key];
  return value === undefined || value === '' ? undefined : value;
}
