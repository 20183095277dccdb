import type * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { TransferbenchError } from '../../common/errors.js';
import { Random } from '../../common/random.js';
import { predictLogits } from '../../compute/train.js';
import { INPUT_NAME, OUTPUT_NAME } from './export.js';

export interface ParityReport {
  readonly inputs: number;
  /** Largest |onnx - tfjs| over all outputs (the check itself divides by max(1, |tfjs|)). */
  readonly maxAbsoluteDifference: number;
}

/**
 * Runs the ONNX bytes in onnxruntime on `count` inputs (uniform noise, plus `images` when given)
 * and compares every logit with tfjs. Refuses (throws) above `tolerance`.
 */
export async function checkParity(
  model: tf.LayersModel,
  onnxBytes: Uint8Array,
  imageShape: readonly [number, number, number],
  options: { count?: number; tolerance?: number; seed?: number; images?: Float32Array; name?: string } = {},
): Promise<ParityReport> {
  const count = options.count ?? 256;
  const tolerance = options.tolerance ?? 1e-4;
  const [h, w, c] = imageShape;
  const size = h * w * c;
  const inputs = new Float32Array(count * size);
  const random = new Random(options.seed ?? 0).fork('parity');
  const real = options.images ? Math.min(count / 2, options.images.length / size) : 0;
  if (options.images) inputs.set(options.images.subarray(0, real * size));
  for (let i = real * size; i < inputs.length; i++) inputs[i] = random.next();
  const expected = predictLogits(model, inputs, imageShape);
  const session = await ort.InferenceSession.create(onnxBytes, { intraOpNumThreads: 1 });
  try {
    const result = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', inputs, [count, h, w, c]) });
    const actual = result[OUTPUT_NAME]?.data as Float32Array | undefined;
    if (actual === undefined || actual.length !== expected.length) {
      throw new TransferbenchError(
        'BAD_OPTION',
        `ONNX parity${options.name ? ` (${options.name})` : ''}: output ` +
          `has ${actual?.length ?? 0} values, tfjs ${expected.length}`,
      );
    }
    // Absolute for outputs of order 1, relative beyond: an RBF network's log-confidences reach
    // -1000 on unlike inputs, where float32 itself only resolves ~1e-4.
    let maxDiff = 0;
    let worst = 0;
    for (let i = 0; i < expected.length; i++) {
      const diff = Math.abs((actual[i] as number) - (expected[i] as number));
      maxDiff = Math.max(maxDiff, diff);
      worst = Math.max(worst, diff / Math.max(1, Math.abs(expected[i] as number)));
    }
    if (!(worst <= tolerance)) {
      throw new TransferbenchError(
        'BAD_OPTION',
        `ONNX parity${options.name ? ` (${options.name})` : ''}: an output ` +
          `differs from tfjs by ${worst.toExponential(3)} (relative to ` +
          `max(1, |value|)) > ${tolerance}; the model was not written`,
      );
    }
    return { inputs: count, maxAbsoluteDifference: maxDiff };
  } finally {
    await session.release();
  }
}
