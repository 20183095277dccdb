import type * as tf from '@tensorflow/tfjs';
import { convertTfjs } from '../../compute/network/from-tfjs.js';
import { networkBytes } from '../../compute/network/network.js';

export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'logits';

/**
 * Writes a trained tfjs classifier as ONNX (opset 13, dynamic batch) through the one tfjs-to-ONNX
 * conversion the training engine uses too (src/compute/network/from-tfjs.ts): transferbench's
 * NHWC input, transposed once to the NCHW that ONNX Conv expects and back before Flatten so Dense
 * weights keep tfjs's flatten order. Output: logits.
 */
export function exportToOnnx(model: tf.LayersModel, docString = ''): Uint8Array {
  const io = { prefix: '', input: INPUT_NAME, output: OUTPUT_NAME };
  const { network } = convertTfjs(model, io);
  return networkBytes(network, docString, { images: INPUT_NAME, logits: OUTPUT_NAME });
}
