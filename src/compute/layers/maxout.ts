import * as tf from '@tensorflow/tfjs';
import { featureCount, singleShape } from './shape.js';

export interface MaxoutArgs {
  units: number;
  pieces: number;
  seed?: number;
  name?: string;
}

/**
 * A maxout layer (Goodfellow et al. 2013, used in 1412.6572): `pieces` affine maps per unit,
 * the unit's output their maximum. Stored as one [inputs, units * pieces] kernel, unit-major,
 * so column j belongs to unit floor(j / pieces); the ONNX exporter relies on that order.
 */
export class Maxout extends tf.layers.Layer {
  static readonly className = 'Maxout';
  readonly units: number;
  readonly pieces: number;
  private readonly seed: number | undefined;
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  constructor(args: MaxoutArgs) {
    super(args.name ? { name: args.name } : {});
    this.units = args.units;
    this.pieces = args.pieces;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const inputs = featureCount(inputShape);
    const width = this.units * this.pieces;
    this.kernel = this.addWeight(
      'kernel',
      [inputs, width],
      'float32',
      tf.initializers.glorotUniform(this.seed === undefined ? {} : { seed: this.seed }),
    );
    this.bias = this.addWeight('bias', [width], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [singleShape(inputShape)[0] ?? null, this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      const affine = x
        .matMul((this.kernel as tf.LayerVariable).read() as tf.Tensor2D)
        .add((this.bias as tf.LayerVariable).read());
      return affine.reshape([-1, this.units, this.pieces]).max(2);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, pieces: this.pieces };
  }
}
