import type { NetworkBuilder } from '../builder.js';
import { flatten } from './flatten.js';

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
