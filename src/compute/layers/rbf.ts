import * as tf from '@tensorflow/tfjs';
import { featureCount, singleShape } from './shape.js';

export interface RbfArgs {
  units: number;
  /** A per-unit offset b_k (default true); without it every score is at most 0. */
  useBias?: boolean;
  seed?: number;
  name?: string;
}

/**
 * A radial-basis-function output layer (the shallow RBF network of Goodfellow et al. 1412.6572):
 * unit k scores x by -sum_i beta_ik (x_i - mu_ik)^2 (+ b_k), the log of a Gaussian bump with a
 * learned centre mu and diagonal precision beta = exp(logPrecision). Written as
 *   -(x^2 @ beta) + x @ (2 beta mu) - colsum(beta mu^2) + b
 * so it is two matrix products (and exports to two ONNX Gemms).
 */
export class Rbf extends tf.layers.Layer {
  static readonly className = 'Rbf';
  readonly units: number;
  readonly useBias: boolean;
  private readonly seed: number | undefined;
  private centres?: tf.LayerVariable;
  private logPrecision?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  constructor(args: RbfArgs) {
    super(args.name ? { name: args.name } : {});
    this.units = args.units;
    this.useBias = args.useBias ?? true;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const inputs = featureCount(inputShape);
    this.centres = this.addWeight(
      'centres',
      [inputs, this.units],
      'float32',
      tf.initializers.randomUniform({ minval: 0, maxval: 1, ...(this.seed === undefined ? {} : { seed: this.seed }) }),
    );
    // beta = 1/inputs at the start keeps the initial scores of order 1 whatever the input size.
    this.logPrecision = this.addWeight(
      'logPrecision',
      [inputs, this.units],
      'float32',
      tf.initializers.constant({ value: -Math.log(inputs) }),
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [singleShape(inputShape)[0] ?? null, this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      const beta = ((this.logPrecision as tf.LayerVariable).read() as tf.Tensor2D).exp();
      const mu = (this.centres as tf.LayerVariable).read() as tf.Tensor2D;
      const betaMu = beta.mul(mu) as tf.Tensor2D;
      const offset = betaMu.mul(mu).sum(0).neg();
      const constant = this.bias ? offset.add(this.bias.read()) : offset;
      return x
        .square()
        .matMul(beta)
        .neg()
        .add(x.matMul(betaMu.mul(2) as tf.Tensor2D))
        .add(constant);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, useBias: this.useBias };
  }
}
