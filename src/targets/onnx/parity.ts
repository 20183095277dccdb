import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { TransferbenchError } from '../../common/errors.js';
import { Random } from '../../common/random.js';
import { predictLogits } from '../../compute/train.js';
import { INPUT_NAME, OUTPUT_NAME } from './export.js';

export interface ParityReport {
  readonly inputs: number;
  /** Largest |onnx - tfjs| over all logits. */
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
      throw new TransferbenchError('BAD_OPTION', `ONNX parity${options.name ? ` (${options.name})` : ''}: output has ${actual?.length ?? 0} values, tfjs ${expected.length}`);
    }
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs((actual[i] as number) - (expected[i] as number)));
    if (!(maxDiff <= tolerance)) {
      throw new TransferbenchError('BAD_OPTION', `ONNX parity${options.name ? ` (${options.name})` : ''}: a logit differs from tfjs by ${maxDiff.toExponential(3)} > ${tolerance}; the model was not written`);
    }
    return { inputs: count, maxAbsoluteDifference: maxDiff };
  } finally {
    await session.release();
  }
}
