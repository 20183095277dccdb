import type { Layout, OutputKind } from '../targets/descriptor.js';
import type { DefenceSpec } from './defences/types.js';

/** What the pool sends a worker (thread or process): one batch for one model. */
export interface InferenceTask {
  readonly modelPath: string;
  /** Key of the worker's session cache. */
  readonly sha256: string;
  readonly modelName: string;
  readonly inputName: string;
  readonly outputName: string;
  readonly layout: Layout;
  /** One image's shape in the model's layout. */
  readonly inputShape: readonly number[];
  readonly inputRange: readonly [number, number];
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly outputKind: OutputKind;
  /** NHWC float32 in [0, 1]. */
  readonly images: Float32Array;
  readonly count: number;
  readonly intraOpThreads: number;
  /** The target's input defence, run in the worker before the model (never seen by the attacker's side). */
  readonly defence?: DefenceSpec;
}

/** A worker's answer: probabilities (count x classes), or the error as data, so the worker keeps serving. */
export type InferenceResult =
  | { readonly ok: true; readonly probabilities: Float32Array; readonly classes: number }
  | { readonly ok: false; readonly error: string };

/** Worker thread -> pool, once onnxruntime is imported: the thread may now be terminated when idle. */
export interface ThreadLoadedMessage {
  readonly kind: 'loaded';
  readonly threadId: number;
}

/** Main process -> pool process: one task, answered by a ResultMessage with the same id. */
export interface TaskMessage {
  readonly id: number;
  readonly task: InferenceTask;
}

/** Pool process -> main process: `ready` once onnxruntime is loaded, then one result per task. */
export type PoolProcessMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'result'; readonly id: number; readonly result: InferenceResult };
