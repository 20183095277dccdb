import type * as tf from '@tensorflow/tfjs';
import { Composer, convGeometry, type KernelArgs } from './compose.js';

/**
 * Conv2DBackpropInput (also the forward pass of conv2dTranspose) as one forward convolution:
 * the output gradient, dilated by the stride (zeros between rows and columns) and padded to a
 * "full" correlation, convolved with the filter rotated by 180 degrees and with its in/out
 * channels swapped. wasm ships a direct loop for this kernel that is 4-10x slower than its
 * XNNPACK convolution on the layers transferbench trains (see reports/perf/compute.json).
 */
export function conv2dBackpropInput(
  args: KernelArgs,
  backendName: string,
  originals: ReadonlyMap<string, tf.KernelFunc>,
): tf.TensorInfo {
  const dy = args.inputs.dy as tf.TensorInfo;
  const filter = args.inputs.filter as tf.TensorInfo;
  const attrs = args.attrs ?? {};
  const g = convGeometry(attrs.inputShape as number[], filter.shape, attrs);
  const compose = new Composer(args.backend, backendName, originals);
  let gradient = dy;
  if (g.strideHeight > 1 || g.strideWidth > 1) {
    // Dilation by reshape + pad: [n, ho, 1, wo, 1, co] padded to [n, ho, sh, wo, sw, co].
    const spread = compose.run(
      'Reshape',
      { x: dy },
      { shape: [g.batch, g.outHeight, 1, g.outWidth, 1, g.outChannels] },
    );
    const padded = compose.run(
      'PadV2',
      { x: spread },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, g.strideHeight - 1],
          [0, 0],
          [0, g.strideWidth - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    gradient = compose.run(
      'Reshape',
      { x: padded },
      {
        shape: [g.batch, g.outHeight * g.strideHeight, g.outWidth * g.strideWidth, g.outChannels],
      },
    );
  }
  const top = g.filterHeight - 1 - g.padTop;
  const left = g.filterWidth - 1 - g.padLeft;
  const bottom = g.inHeight + g.filterHeight - 1 - (gradient.shape[1] as number) - top;
  const right = g.inWidth + g.filterWidth - 1 - (gradient.shape[2] as number) - left;
  if (top > 0 || left > 0 || bottom > 0 || right > 0) {
    gradient = compose.run(
      'PadV2',
      { x: gradient },
      {
        paddings: [
          [0, 0],
          [Math.max(0, top), Math.max(0, bottom)],
          [Math.max(0, left), Math.max(0, right)],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
  }
  if (top < 0 || left < 0 || bottom < 0 || right < 0) {
    gradient = compose.run(
      'Slice',
      { x: gradient },
      {
        begin: [0, Math.max(0, -top), Math.max(0, -left), 0],
        size: [g.batch, g.inHeight + g.filterHeight - 1, g.inWidth + g.filterWidth - 1, g.outChannels],
      },
    );
  }
  const rotated = compose.run('Reverse', { x: filter }, { dims: [0, 1] });
  const swapped = compose.run('Transpose', { x: rotated }, { perm: [0, 1, 3, 2] });
  return compose.finish(
    'Conv2D',
    { x: gradient, filter: swapped },
    { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] },
  );
}
