import type { Emitter } from '../../onnx-gradient/emit.js';
import type { NetworkBuilder } from '../builder.js';

/**
 * Dropout at `rate` (identity at inference; the training engine gives it a seeded mask input,
 * onnx-train/training-form.ts). On NHWC values, as tfjs applies it: a mask is then drawn in
 * tfjs's element order.
 */
export function dropout(b: NetworkBuilder, rate: number): string {
  b.current = dropoutNode(b.emit, b.toLayout('NHWC'), rate);
  return b.current;
}

/** The layer's node; convertTfjs writes a tfjs Dropout layer through here too. */
export function dropoutNode(emit: Emitter, x: string, rate: number): string {
  return emit.node('Dropout', [x, emit.floats([], [rate])]);
}
