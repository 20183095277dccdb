import type * as tf from '@tensorflow/tfjs';

/**
 * tfjs layer configurations read as ONNX attributes: the opset every network of ours is written
 * at, and TensorFlow's padding and pooling conventions. Export (src/targets/onnx) and the
 * training graph (onnx-train) both write layers from tfjs configs, so both read them here.
 */
export const OPSET = 13;

/** TensorFlow's 'same' padding along one axis: [before, after] (network/layers/keras-conv.ts reads it too). */
export function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export function pads(
  config: tf.serialization.ConfigDict,
  inputShape: number[],
  kernel: [number, number],
  strides: [number, number],
): number[] {
  if (config.padding !== 'same') return [0, 0, 0, 0];
  const [top, bottom] = samePadding(inputShape[1] as number, kernel[0], strides[0]);
  const [left, right] = samePadding(inputShape[2] as number, kernel[1], strides[1]);
  return [top, left, bottom, right];
}

export const pair = (v: unknown): [number, number] =>
  Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number];

/** A MaxPooling2D / AveragePooling2D layer's ONNX operator and window. */
export function poolingOf(
  layer: tf.layers.Layer,
  inputShape: number[],
): { op: 'MaxPool' | 'AveragePool'; kernel: [number, number]; strides: [number, number]; pads: number[] } {
  const config = layer.getConfig();
  const kernel = pair(config.poolSize);
  const strides = pair(config.strides ?? config.poolSize);
  return {
    op: layer.getClassName() === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool',
    kernel,
    strides,
    pads: pads(config, inputShape, kernel, strides),
  };
}
