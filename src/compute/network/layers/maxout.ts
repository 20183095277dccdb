import { TransferbenchError } from '../../../common/errors.js';
import type { NetworkBuilder } from '../builder.js';
import { glorotUniform } from '../keras-init.js';

export interface MaxoutSpec {
  readonly units: number;
  readonly pieces: number;
  /** The layer's own glorotUniform seed (the architecture draws it from its own stream). */
  readonly seed: number;
}

/**
 * A maxout layer (Goodfellow et al. 2013, used in 1412.6572): `pieces` affine maps per unit, the
 * unit's output their maximum. One Gemm to units * pieces unit-major columns (column j belongs
 * to unit floor(j / pieces), as src/compute/layers/maxout.ts stores its kernel), then the max
 * over each unit's pieces.
 */
export function maxout(b: NetworkBuilder, spec: MaxoutSpec): string {
  if (b.shape.length !== 1)
    throw new TransferbenchError('BAD_OPTION', `maxout: input of shape [${b.shape}]; flatten it first`);
  const features = b.shape[0] as number;
  const width = spec.units * spec.pieces;
  const kernel = b.weightOf('maxout_w', [features, width], glorotUniform([features, width], spec.seed));
  const bias = b.weightOf('maxout_b', [width], new Float32Array(width));
  const affine = b.emit.node('Gemm', [b.current, kernel, bias]);
  b.current = b.emit.reduce('ReduceMax', b.emit.reshape(affine, [-1, spec.units, spec.pieces]), [2], false);
  b.shape = [spec.units];
  return b.current;
}
