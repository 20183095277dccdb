import type * as tf from '@tensorflow/tfjs';
import { Composer, type KernelArgs } from './compose.js';

/**
 * BatchMatMul with transposed operands. wasm's kernel is fast only for plain (untransposed)
 * operands and about 10x slower otherwise, and every Dense gradient asks for a transposed one;
 * an explicit Transpose (cheap, memory-bound) followed by the plain product is faster.
 */
export function batchMatMul(
  args: KernelArgs,
  backendName: string,
  originals: ReadonlyMap<string, tf.KernelFunc>,
): tf.TensorInfo {
  const a = args.inputs.a as tf.TensorInfo;
  const b = args.inputs.b as tf.TensorInfo;
  const attrs = args.attrs ?? {};
  const compose = new Composer(args.backend, backendName, originals);
  const swapLastTwo = (t: tf.TensorInfo): tf.TensorInfo => {
    const rank = t.shape.length;
    const perm = Array.from({ length: rank }, (_, i) => i);
    perm[rank - 2] = rank - 1;
    perm[rank - 1] = rank - 2;
    return compose.run('Transpose', { x: t }, { perm });
  };
  const left = attrs.transposeA === true ? swapLastTwo(a) : a;
  const right = attrs.transposeB === true ? swapLastTwo(b) : b;
  return compose.finish('BatchMatMul', { a: left, b: right }, { transposeA: false, transposeB: false });
}
