import * as tf from '@tensorflow/tfjs';

/** Added to each variance before its square root (the ONNX training graph uses the same). */
export const INSTANCE_NORM_EPSILON = 1e-5;

/**
 * Instance normalisation (Ulyanov et al. 2016), which AdvGAN's generator uses after each
 * convolution: every image's every channel is normalised over its own height and width, then
 * scaled and shifted by a learned per-channel gamma and beta. tfjs has no such layer.
 */
export class InstanceNorm extends tf.layers.Layer {
  static readonly className = 'InstanceNorm';
  private gamma?: tf.LayerVariable;
  private beta?: tf.LayerVariable;

  constructor(args: { name?: string } = {}) {
    super(args.name ? { name: args.name } : {});
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number') throw new Error('InstanceNorm needs a known channel count');
    this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const { mean, variance } = tf.moments(x, [1, 2], true);
      const normalised = x.sub(mean).mul(variance.add(INSTANCE_NORM_EPSILON).rsqrt());
      return normalised.mul((this.gamma as tf.LayerVariable).read()).add((this.beta as tf.LayerVariable).read());
    });
  }
}
