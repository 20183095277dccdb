import { ints } from '../../onnx-gradient/ir.js';
import type { NetworkBuilder } from '../builder.js';

/** Max pooling, window and stride `size`, no padding. */
export function maxPool(b: NetworkBuilder, size = 2): string {
  const [c, h, w] = b.shape as [number, number, number];
  b.current = b.emit.node('MaxPool', [b.toLayout('NCHW')], {
    kernel_shape: ints([size, size]),
    strides: ints([size, size]),
    pads: ints([0, 0, 0, 0]),
  });
  b.shape = [c, Math.floor(h / size), Math.floor(w / size)];
  return b.current;
}

/** The mean over each channel's height and width, as [C, 1, 1]. */
export function globalAveragePool(b: NetworkBuilder): string {
  b.current = b.emit.node('GlobalAveragePool', [b.current]);
  b.shape = [b.shape[0] as number, 1, 1];
  return b.current;
}

export function relu(b: NetworkBuilder): string {
  b.current = b.emit.node('Relu', [b.current]);
  return b.current;
}
