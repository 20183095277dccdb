import * as tf from '@tensorflow/tfjs';
import type { KernelArgs } from './compose.js';

/** The part of tfjs-backend-wasm's BackendWasm this kernel uses. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/**
 * MaxPoolGrad for wasm, as a JavaScript loop over views of the wasm heap: each output
 * gradient goes to the first maximum of its window (row-major), as on the cpu backend, and
 * overlapping windows accumulate. wasm's own kernel takes ~33 ms per 2x2 pool of a batch of
 * 64 in the small CNN, a third of a training step; this loop takes a few.
 */
export function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const dy = args.inputs.dy as tf.TensorInfo;
  const x = args.inputs.input as tf.TensorInfo;
  const attrs = args.attrs ?? {};
  const backend = args.backend as WasmHeapBackend;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: c,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    filterHeight,
    filterWidth,
  } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const out = backend.makeOutput([...x.shape], 'float32');
  // Views are taken after the output is allocated: an allocation can grow the wasm memory
  // and detach views made before it.
  const dx = backend.typedArrayFromHeap(out);
  const input = backend.typedArrayFromHeap(x);
  const gradient = backend.typedArrayFromHeap(dy);
  dx.fill(0);
  const rowStride = inWidth * c;
  const imageStride = inHeight * rowStride;
  if (
    filterHeight === 2 &&
    filterWidth === 2 &&
    strideHeight === 2 &&
    strideWidth === 2 &&
    padTop === 0 &&
    padLeft === 0 &&
    2 * outHeight <= inHeight &&
    2 * outWidth <= inWidth
  ) {
    // The pool every zoo CNN uses: disjoint 2x2 windows, no bounds checks, no accumulation.
    let g = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let oy = 0; oy < outHeight; oy++) {
        const row = b * imageStride + 2 * oy * rowStride;
        for (let ox = 0; ox < outWidth; ox++) {
          const topLeft = row + 2 * ox * c;
          for (let ch = 0; ch < c; ch++, g++) {
            const o00 = topLeft + ch;
            const o01 = o00 + c;
            const o10 = o00 + rowStride;
            const o11 = o10 + c;
            let best = o00;
            let bestValue = input[o00] as number;
            if ((input[o01] as number) > bestValue) {
              best = o01;
              bestValue = input[o01] as number;
            }
            if ((input[o10] as number) > bestValue) {
              best = o10;
              bestValue = input[o10] as number;
            }
            if ((input[o11] as number) > bestValue) best = o11;
            dx[best] = gradient[g] as number;
          }
        }
      }
    }
    return out;
  }
  let g = 0;
  for (let b = 0; b < batchSize; b++) {
    const imageBase = b * imageStride;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - padTop;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(inHeight, y0 + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - padLeft;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(inWidth, x0 + filterWidth);
        for (let ch = 0; ch < c; ch++, g++) {
          let best = -1;
          let bestValue = Number.NEGATIVE_INFINITY;
          for (let yy = yStart; yy < yEnd; yy++) {
            let offset = imageBase + yy * rowStride + xStart * c + ch;
            for (let xx = xStart; xx < xEnd; xx++, offset += c) {
              const v = input[offset] as number;
              if (v > bestValue || best < 0) {
                bestValue = v;
                best = offset;
              }
            }
          }
          if (best >= 0) dx[best] = (dx[best] as number) + (gradient[g] as number);
        }
      }
    }
  }
  return out;
}
