import type * as tf from '@tensorflow/tfjs';
import type { ParamSpec } from '../params.js';
import type { AttackParams, LabelledImages } from '../attack-params.js';

/** What a transformation knows when it plans one gradient evaluation. */
export interface TransformContext {
  readonly params: AttackParams;
  readonly imageShape: readonly [number, number, number];
  /**
   * One key per input image: the image id, extended by the copy index after each earlier
   * transformation. With the seed, the transformation's name and the evaluation index it names
   * the image's random stream, so draws do not depend on the batch an image is in.
   */
  readonly keys: readonly string[];
  /** The label of each input image (Admix mixes in images of other classes). */
  readonly labels: Int32Array;
  /** Which gradient evaluation of the loop this is (0, 1, ...). */
  readonly evaluation: number;
  /** Labelled images Admix draws from. */
  readonly pool: LabelledImages;
}

/**
 * One transformation of the input for one gradient evaluation, its random draws already made,
 * so `forward` is a pure tfjs function the backward pass (a vector-Jacobian product through it)
 * replays exactly.
 */
export interface TransformPlan {
  /**
   * Copies of each input image in the output: the output holds copies * n images, copy-major (copy j of image i at j *
   * n + i).
   */
  readonly copies: number;
  /**
   * True when it changes nothing (DI with p = 0, one SI copy, Admix without mixing): skipped, so those reductions are
   * exact.
   */
  readonly identity: boolean;
  /** [n, H, W, C] -> [copies * n, H, W, C]; called inside tf.tidy and tf.grad. */
  forward(x: tf.Tensor4D): tf.Tensor4D;
}

/**
 * An input transformation of the transfer literature (DI, TI, SI, Admix), applied to every
 * gradient evaluation of any gradient method. It acts on the input before the surrogate (the
 * gradient then flows back through it), on the gradient after it (TI), or both.
 */
export interface InputTransform {
  readonly name: string;
  /** One line with the paper it comes from. */
  readonly description: string;
  readonly parameters: readonly ParamSpec[];
  /** The input side for one evaluation; absent when the transformation leaves the input alone. */
  readonly plan?: (context: TransformContext) => TransformPlan;
  /** The gradient side, after the backward pass (called inside tf.tidy); absent when it leaves the gradient alone. */
  readonly smooth?: (gradient: tf.Tensor4D, params: AttackParams) => tf.Tensor4D | undefined;
}
