import { TransferbenchError } from '../../../common/errors.js';
import type { NetworkBuilder } from '../builder.js';
import { glorotUniform } from '../keras-init.js';

/**
 * Keras's Dense on a flattened value: Gemm with an [in, units] kernel drawn by tfjs's
 * glorotUniform from a seed of the builder's stream, a zero bias, then the activation.
 */
export function kerasDense(b: NetworkBuilder, units: number, activation: 'relu' | 'linear' = 'relu'): string {
  if (b.shape.length !== 1)
    throw new TransferbenchError('BAD_OPTION', `kerasDense: input of shape [${b.shape}]; flatten it first`);
  const features = b.shape[0] as number;
  const kernel = b.weightOf('dense_w', [features, units], glorotUniform([features, units], b.layerSeed()));
  const bias = b.weightOf('dense_b', [units], new Float32Array(units));
  b.current = b.emit.node('Gemm', [b.current, kernel, bias]);
  if (activation === 'relu') b.current = b.emit.node('Relu', [b.current]);
  b.shape = [units];
  return b.current;
}
