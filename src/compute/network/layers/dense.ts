import { int } from '../../onnx-gradient/ir.js';
import type { NetworkBuilder } from '../builder.js';

/** Flattens one image's [C, H, W] in that (channels-first) order. */
export function flatten(b: NetworkBuilder): string {
  if (b.shape.length === 1) return b.current;
  b.current = b.emit.node('Flatten', [b.current], { axis: int(1) });
  b.shape = [b.shape.reduce((a, c) => a * c, 1)];
  return b.current;
}

/** A fully connected layer (Gemm, Glorot-uniform weights, zero bias) on a flattened value. */
export function dense(b: NetworkBuilder, units: number): string {
  flatten(b);
  const features = b.shape[0] as number;
  const weights = b.weight('dense_w', [features, units], 'glorot-uniform', { in: features, out: units });
  b.current = b.emit.node('Gemm', [b.current, weights, b.weight('dense_b', [units], 'zeros')]);
  b.shape = [units];
  b.multiplyAdds += features * units;
  return b.current;
}
