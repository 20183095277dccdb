import { TransferbenchError } from '../../../common/errors.js';
import type { Emitter } from '../../onnx-gradient/emit.js';
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
 * unit's output their maximum. One [inputs, units * pieces] kernel drawn as the tfjs layer
 * (src/compute/layers/maxout.ts) draws it, a zero bias.
 */
export function maxout(b: NetworkBuilder, spec: MaxoutSpec): string {
  if (b.shape.length !== 1)
    throw new TransferbenchError('BAD_OPTION', `maxout: input of shape [${b.shape}]; flatten it first`);
  const features = b.shape[0] as number;
  const width = spec.units * spec.pieces;
  const kernel = b.weightOf('maxout_w', [features, width], glorotUniform([features, width], spec.seed));
  const bias = b.weightOf('maxout_b', [width], new Float32Array(width));
  b.current = maxoutNodes(b.emit, b.current, { kernel, bias }, spec);
  b.shape = [spec.units];
  return b.current;
}

/**
 * The layer's nodes: a Gemm to units * pieces unit-major columns (column j belongs to unit
 * floor(j / pieces)), then the max over each unit's pieces. convertTfjs writes a tfjs Maxout
 * layer through here too, so both definitions emit one graph.
 */
export function maxoutNodes(
  emit: Emitter,
  x: string,
  weights: { readonly kernel: string; readonly bias: string },
  spec: { readonly units: number; readonly pieces: number },
): string {
  const affine = emit.node('Gemm', [x, weights.kernel, weights.bias]);
  return emit.reduce('ReduceMax', emit.reshape(affine, [-1, spec.units, spec.pieces]), [2], false);
}
