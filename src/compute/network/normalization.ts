import type { Emitter } from '../onnx-gradient/emit.js';

/**
 * The layout of a value in the training graph: images NHWC or NCHW; a [N, features] matrix counts as NHWC (channels
 * last).
 */
export type Layout = 'NHWC' | 'NCHW';

/**
 * A BatchNormalization's running statistics in training: after each step the engine moves them
 * toward the batch's mean and variance (the graph outputs `output`), as tfjs and ONNX's
 * BatchNormalization do, moving -= (moving - batch) (1 - momentum). `name` is the initializer.
 */
export interface RunningStatistics {
  readonly mean: { readonly name: string; readonly output: string };
  readonly variance: { readonly name: string; readonly output: string };
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

/**
 * Scale and shift per channel: gamma and beta are [C], reshaped to [C, 1, ...] for channels first
 * (`rank` of x: 4 for images, 2 for a [N, C] matrix, which needs no reshape).
 */
export function scaleAndShift(emit: Emitter, x: string, layout: Layout, gamma: string, beta: string, rank = 4): string {
  const trailing = Array.from({ length: Math.max(0, rank - 2) }, () => 1);
  const perChannel = (v: string) => (layout === 'NCHW' && rank > 2 ? emit.reshape(v, [-1, ...trailing]) : v);
  return emit.node('Add', [emit.node('Mul', [x, perChannel(gamma)]), perChannel(beta)]);
}

/** The moving average update tfjs's BatchNormalization applies after a training step, in place. */
export function updateRunningStatistic(moving: Float32Array, batch: Float32Array, momentum: number): void {
  const decay = 1 - momentum;
  for (let i = 0; i < moving.length; i++)
    moving[i] = (moving[i] as number) - ((moving[i] as number) - (batch[i] as number)) * decay;
}
