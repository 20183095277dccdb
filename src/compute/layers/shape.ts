import type * as tf from '@tensorflow/tfjs';

/** The one input shape of a single-input layer (tfjs passes a list for multi-input layers). */
export function singleShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
}

/** Its last dimension: the feature count a dense-like layer maps from. */
export function featureCount(inputShape: tf.Shape | tf.Shape[]): number {
  const shape = singleShape(inputShape);
  return shape[shape.length - 1] as number;
}
