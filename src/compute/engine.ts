import * as tf from '@tensorflow/tfjs';
import { badOption } from '../common/errors.js';
import { trainOnOnnxruntime } from './onnx-train/train.js';
import { trainClassifier, type TrainingSet, type TrainOptions, type TrainResult } from './train.js';

/**
 * Training engines: where substitutes and targets are fitted. `tfjs` runs the model's own
 * training on the tfjs backend (see backend.ts); `onnxruntime` runs a generated training graph
 * (src/compute/onnx-train/) natively on `threads` cores and writes the weights back into the
 * tfjs model, so saving, export and the caches are unchanged.
 */
export const ENGINE_NAMES = ['onnxruntime', 'tfjs'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** What a report's manifest records about the training engine. */
export interface EngineInfo {
  readonly name: EngineName;
  /** onnxruntime intra-op threads (onnxruntime only). */
  readonly threads?: number;
  /** Where the optimiser step runs (onnxruntime only): graph nodes or typed arrays. */
  readonly optimizer?: 'in-graph' | 'typed-arrays';
}

/**
 * The engine when neither --engine nor TRANSFERBENCH_ENGINE names one, chosen by measurement
 * (README, "Training engine"): onnxruntime beside tfjs on wasm or cpu, which it outruns; tfjs
 * beside native TensorFlow (tfjs-node, tfjs-node-gpu), against which onnxruntime has not been
 * measured.
 */
export function defaultEngine(backend: string = tf.getBackend()): EngineName {
  return backend === 'tensorflow' ? 'tfjs' : 'onnxruntime';
}
const DEFAULT_THREADS = 1;
/** The faster of the two optimiser placements on this machine (README, "Training engine"). */
const OPTIMIZER_IN_GRAPH = false;

let current: EngineInfo | undefined;

/**
 * Chooses the training engine: the one requested (--engine, then TRANSFERBENCH_ENGINE), else the
 * default; onnxruntime's threads from --train-threads, then TRANSFERBENCH_TRAIN_THREADS, else 1.
 */
export function useEngine(requested: string | undefined = envValue('TRANSFERBENCH_ENGINE'), threads: string | number | undefined = envValue('TRANSFERBENCH_TRAIN_THREADS')): EngineInfo {
  const name = requested ?? defaultEngine();
  if (!(ENGINE_NAMES as readonly string[]).includes(name)) throw badOption('--engine (or TRANSFERBENCH_ENGINE)', name, `one of ${ENGINE_NAMES.join(', ')}`);
  const count = threads === undefined ? DEFAULT_THREADS : Number(threads);
  if (!Number.isInteger(count) || count < 1) throw badOption('--train-threads (or TRANSFERBENCH_TRAIN_THREADS)', threads, 'a positive integer');
  current = name === 'tfjs' ? { name: 'tfjs' } : { name: 'onnxruntime', threads: count, optimizer: OPTIMIZER_IN_GRAPH ? 'in-graph' : 'typed-arrays' };
  return current;
}

/**
 * The engine in use: the one chosen, else the environment's, else the default for the active
 * backend (not remembered: it follows the backend).
 */
export function currentEngineInfo(): EngineInfo {
  if (current) return current;
  const chosen = useEngine(envValue('TRANSFERBENCH_ENGINE') ?? defaultEngine());
  current = undefined;
  return chosen;
}

/** Forgets the engine chosen, so the environment and the default apply again (tests). */
export function resetEngine(): void {
  current = undefined;
}

/** Fits `model` to `set` on the current engine (or the one given). */
export async function trainModel(model: tf.LayersModel, set: TrainingSet, options: TrainOptions, engine: EngineInfo = currentEngineInfo()): Promise<TrainResult> {
  if (engine.name === 'tfjs') return trainClassifier(model, set, options);
  return trainOnOnnxruntime(model, set, options, { threads: engine.threads ?? DEFAULT_THREADS, optimizerInGraph: engine.optimizer === 'in-graph' });
}

function envValue(key: string): string | undefined {
  const value = process.env[key];
  return value === undefined || value === '' ? undefined : value;
}
