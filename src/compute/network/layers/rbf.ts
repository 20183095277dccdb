import { TransferbenchError } from '../../../common/errors.js';
import type { NetworkBuilder } from '../builder.js';
import { kerasRandomUniform } from '../keras-init.js';

export interface RbfSpec {
  readonly units: number;
  /** A per-unit offset b_k; without it every score is at most 0. */
  readonly bias: boolean;
  /** The centres' own randomUniform seed (the architecture draws it from its own stream). */
  readonly seed: number;
}

/**
 * A radial-basis-function layer (the shallow RBF network of Goodfellow et al. 1412.6572): unit k
 * scores x by -sum_i beta_ik (x_i - mu_ik)^2 (+ b_k), beta = exp(logPrecision), written as
 * -(x^2 @ beta) + x @ (2 beta mu) - colsum(beta mu^2) (+ b): two matrix products.
 */
export function rbf(b: NetworkBuilder, spec: RbfSpec): string {
  if (b.shape.length !== 1)
    throw new TransferbenchError('BAD_OPTION', `rbf: input of shape [${b.shape}]; flatten it first`);
  const features = b.shape[0] as number;
  const shape = [features, spec.units];
  const size = features * spec.units;
  // tfjs's randomUniform({ minval: 0, maxval: 1 }) draws from [-0.05, 1) (keras-init.ts): kept so.
  const mu = b.weightOf('rbf_centres', shape, kerasRandomUniform(shape, { minval: 0, maxval: 1 }, spec.seed));
  // beta = 1/inputs at the start keeps the initial scores of order 1 whatever the input size.
  const logPrecision = b.weightOf('rbf_log_precision', shape, new Float32Array(size).fill(-Math.log(features)));
  const { emit } = b;
  const x = b.current;
  const beta = emit.node('Exp', [logPrecision]);
  const betaMu = emit.node('Mul', [beta, mu]);
  const quadratic = emit.node('MatMul', [emit.node('Mul', [x, x]), beta]);
  const linear = emit.node('MatMul', [x, emit.node('Mul', [betaMu, emit.floats([], [2])])]);
  let offset = emit.node('Neg', [emit.reduceSum(emit.node('Mul', [betaMu, mu]), [0], false)]);
  if (spec.bias) offset = emit.node('Add', [offset, b.weightOf('rbf_b', [spec.units], new Float32Array(spec.units))]);
  b.current = emit.node('Add', [emit.node('Sub', [linear, quadratic]), offset]);
  b.shape = [spec.units];
  return b.current;
}
