import type * as tf from '@tensorflow/tfjs';
import type { AnyParam, ParamsOf, ParamValues } from '../../common/params.js';
import type { Harness, LabelledImages } from '../vocabulary.js';

/** What a transformation knows when it plans one gradient evaluation. */
export interface TransformContext {
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

/** A transformation with its parameters read for one attack: what the gradient loop applies. */
export interface BoundTransform {
  readonly name: string;
  /** The input side for one evaluation; absent when the transformation leaves the input alone. */
  readonly plan?: (context: TransformContext) => TransformPlan;
  /** The gradient side, after the backward pass (called inside tf.tidy); absent when it leaves the gradient alone. */
  readonly smooth?: (gradient: tf.Tensor4D) => tf.Tensor4D | undefined;
}

/** What a transformation declaring `L` reads. */
export type TransformParamsOf<L extends readonly AnyParam[]> = ParamsOf<L> & Harness;

/**
 * An input transformation of the transfer literature (DI, TI, SI, Admix), applied to every
 * gradient evaluation of any gradient method. It acts on the input before the surrogate (the
 * gradient then flows back through it), on the gradient after it (TI), or both.
 */
export interface InputTransform {
  readonly name: string;
  /** One line with the paper it comes from. */
  readonly description: string;
  readonly parameters: readonly AnyParam[];
  /** Its sides with the attack's resolved parameters read (its own among them). */
  readonly bind: (params: ParamValues) => BoundTransform;
}

/** A transformation as its file writes it: both sides read the parameters it declares, typed. */
export interface TransformDefinition<L extends readonly AnyParam[]> {
  readonly name: string;
  readonly description: string;
  readonly parameters: L;
  readonly plan?: (context: TransformContext, params: TransformParamsOf<L>) => TransformPlan;
  readonly smooth?: (gradient: tf.Tensor4D, params: TransformParamsOf<L>) => tf.Tensor4D | undefined;
}

/** A transformation for the registry; as with attacks, the values it binds are its resolved declarations. */
export function defineTransform<const L extends readonly AnyParam[]>(
  definition: TransformDefinition<L>,
): InputTransform {
  const { name, description, parameters, plan, smooth } = definition;
  return {
    name,
    description,
    parameters,
    bind: (values) => {
      const params = values as unknown as TransformParamsOf<L>;
      return {
        name,
        ...(plan ? { plan: (context: TransformContext) => plan(context, params) } : {}),
        ...(smooth ? { smooth: (gradient: tf.Tensor4D) => smooth(gradient, params) } : {}),
      };
    },
  };
}
