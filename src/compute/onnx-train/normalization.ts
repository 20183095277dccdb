import type * as tf from '@tensorflow/tfjs';
import type { Emitter } from '../onnx-gradient/emit.js';

/**
 * The layout of a value in the training graph: images NHWC or NCHW; a [N, features] matrix counts as NHWC (channels
 * last).
 */
export type Layout = 'NHWC' | 'NCHW';

/**
 * A BatchNormalization layer's running statistics: after each step the engine moves them toward
 * the batch's mean and variance (the graph outputs `mean` and `variance`) as tfjs does,
 * moving -= (moving - batch) (1 - momentum).
 */
export interface RunningStatistics {
  readonly mean: { readonly variable: tf.LayerVariable; readonly output: string };
  readonly variance: { readonly variable: tf.LayerVariable; readonly output: string };
  readonly momentum: number;
}

/**
 * (x - mean) / sqrt(variance + epsilon) over `axes`, the mean and (biased) variance computed
 * from x in the graph as tf.moments does, so the gradient builder differentiates through them:
 * the full dependence of the statistics on the input that tfjs and PyTorch train with.
 */
export function normalised(
  emit: Emitter,
  x: string,
  axes: readonly number[],
  epsilon: number,
): { value: string; mean: string; variance: string } {
  const mean = emit.reduce('ReduceMean', x, axes, true);
  const centred = emit.node('Sub', [x, mean]);
  const variance = emit.reduce('ReduceMean', emit.node('Mul', [centred, centred]), axes, true);
  const deviation = emit.node('Sqrt', [emit.node('Add', [variance, emit.floats([], [epsilon])])]);
  return { value: emit.node('Div', [centred, deviation]), mean, variance };
}

/** The axes other than the channels' in `layout`, for a value of rank `rank`. */
export function nonChannelAxes(layout: Layout, rank: number): number[] {
  const channel = layout === 'NCHW' ? 1 : rank - 1;
  return Array.from({ length: rank }, (_, i) => i).filter((i) => i !== channel);
}

/** Scale and shift per channel: gamma and beta are [C], reshaped to [C, 1, 1] for NCHW. */
export function scaleAndShift(emit: Emitter, x: string, layout: Layout, gamma: string, beta: string): string {
  const perChannel = (v: string) => (layout === 'NCHW' ? emit.reshape(v, [-1, 1, 1]) : v);
  return emit.node('Add', [emit.node('Mul', [x, perChannel(gamma)]), perChannel(beta)]);
}

/** The moving average update tfjs's BatchNormalization applies after a training step, in place. */
export function updateRunningStatistic(moving: Float32Array, batch: Float32Array, momentum: number): void {
  const decay = 1 - momentum;
  for (let i = 0; i < moving.length; i++)
    moving[i] = (moving[i] as number) - ((moving[i] as number) - (batch[i] as number)) * decay;
}
