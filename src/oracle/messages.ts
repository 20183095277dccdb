import type { Layout, OutputKind } from '../targets/descriptor.js';
import type { DefenceSpec } from './defences/types.js';

/** What the main thread sends a pool worker: one batch for one model. Images travel by transfer. */
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
