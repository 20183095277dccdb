import type { NetworkBuilder } from '../builder.js';

/**
 * Dropout at `rate` (identity at inference; the training engine gives it a seeded mask input,
 * onnx-train/training-form.ts). On NHWC values, as convertTfjs writes it: a mask is then drawn
 * in tfjs's element order.
 */
export function dropout(b: NetworkBuilder, rate: number): string {
  const input = b.toLayout('NHWC');
  b.current = b.emit.node('Dropout', [input, b.emit.floats([], [rate])]);
  return b.current;
}
