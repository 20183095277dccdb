import { TransferbenchError } from '../../../common/errors.js';
import type { Emitter } from '../../onnx-gradient/emit.js';
import type { NetworkBuilder } from '../builder.js';
import { kerasRandomUniform } from '../keras-init.js';

export interface RbfSpec {
  readonly units: number;
  /** A per-unit offset b_k; without it every score is at most 0. */
  readonly bias: boolean;
  /** The centres' own randomUniform seed (the architecture draws it from its own stream). */
  readonly seed: number;
}

/** The graph's names of an RBF layer's weights, both [inputs, units]; the bias [units]. */
export interface RbfWeights {
  readonly centres: string;
  readonly logPrecision: string;
  readonly bias: string | undefined;
}

/**
 * A radial-basis-function layer (the shallow RBF network of Goodfellow et al. 1412.6572): unit k
 * scores x by -sum_i beta_ik (x_i - mu_ik)^2 (+ b_k), beta = exp(logPrecision). Centres drawn as
 * the tfjs layer (src/compute/layers/rbf.ts) draws them, log-precisions -log(inputs).
 */
export function rbf(b: NetworkBuilder, spec: RbfSpec): string {
  if (b.shape.length !== 1)
    throw new TransferbenchError('BAD_OPTION', `rbf: input of shape [${b.shape}]; flatten it first`);
  const features = b.shape[0] as number;
  const shape = [features, spec.units];
  // tfjs's randomUniform({ minval: 0, maxval: 1 }) draws from [-0.05, 1) (keras-init.ts): kept so.
  const centres = b.weightOf('rbf_centres', shape, kerasRandomUniform(shape, { minval: 0, maxval: 1 }, spec.seed));
  // beta = 1/inputs at the start keeps the initial scores of order 1 whatever the input size.
  const precision = new Float32Array(features * spec.units).fill(-Math.log(features));
  const logPrecision = b.weightOf('rbf_log_precision', shape, precision);
  const bias = spec.bias ? b.weightOf('rbf_b', [spec.units], new Float32Array(spec.units)) : undefined;
  b.current = rbfNodes(b.emit, b.current, { centres, logPrecision, bias });
  b.shape = [spec.units];
  return b.current;
}

/**
 * The layer's nodes, -(x^2 @ beta) + x @ (2 beta mu) - colsum(beta mu^2) (+ b): two matrix
 * products. convertTfjs writes a tfjs Rbf layer through here too, so both definitions emit one graph.
 */
export function rbfNodes(emit: Emitter, x: string, weights: RbfWeights): string {
  const mu = weights.centres;
  const beta = emit.node('Exp', [weights.logPrecision]);
  const betaMu = emit.node('Mul', [beta, mu]);
  const quadratic = emit.node('MatMul', [emit.node('Mul', [x, x]), beta]);
  const linear = emit.node('MatMul', [x, emit.node('Mul', [betaMu, emit.floats([], [2])])]);
  let offset = emit.node('Neg', [emit.reduceSum(emit.node('Mul', [betaMu, mu]), [0], false)]);
  if (weights.bias !== undefined) offset = emit.node('Add', [offset, weights.bias]);
  return emit.node('Add', [emit.node('Sub', [linear, quadratic]), offset]);
}
