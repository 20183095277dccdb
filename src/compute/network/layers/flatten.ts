import { int } from '../../onnx-gradient/ir.js';
import type { NetworkBuilder } from '../builder.js';

/** Flattens one image's [C, H, W] in that (channels-first) order, as PyTorch's classifiers read it. */
export function flatten(b: NetworkBuilder): string {
  if (b.shape.length === 1) return b.current;
  b.toLayout('NCHW');
  b.current = b.emit.node('Flatten', [b.current], { axis: int(1) });
  b.shape = [b.shape.reduce((a, c) => a * c, 1)];
  return b.current;
}

/**
 * Flattens one image in height, width, channel order, as Keras's Flatten reads an NHWC tensor:
 * the order the digit networks' dense weights were first drawn for, so they keep meaning the same pixels.
 */
export function flattenChannelsLast(b: NetworkBuilder): string {
  b.toLayout('NHWC');
  b.current = b.emit.node('Flatten', [b.current], { axis: int(1) });
  b.shape = [b.shape.reduce((a, c) => a * c, 1)];
  return b.current;
}
