import type * as tf from '@tensorflow/tfjs';
import { Composer, convGeometry, type KernelArgs } from './compose.js';

/**
 * Conv2DBackpropFilter for backends that lack it (wasm), as one forward convolution:
 *   dW[i, j, ci, co] = sum_{n,p,q} x[n, p*s + i - padTop, q*s + j - padLeft, ci] * dy[n, p, q, co]
 * is a convolution of x viewed as [ci, H, W, n] (channels as batch, batch as channels) with dy
 * viewed as a [ho, wo, n, co] filter, dilated by the stride. The padding of the original
 * convolution is applied explicitly, and rows the forward pass never read are cut off, so the
 * result has exactly kh x kw positions. This runs on the backend's fast convolution (XNNPACK).
 */
export function conv2dBackpropFilter(args: KernelArgs, backendName: string): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const dy = args.inputs.dy as tf.TensorInfo;
  const attrs = args.attrs ?? {};
  const g = convGeometry(x.shape, attrs.filterShape as number[], attrs);
  const compose = new Composer(args.backend, backendName);
  const neededHeight = (g.outHeight - 1) * g.strideHeight + g.filterHeight;
  const neededWidth = (g.outWidth - 1) * g.strideWidth + g.filterWidth;
  const padBottom = neededHeight - g.inHeight - g.padTop;
  const padRight = neededWidth - g.inWidth - g.padLeft;
  let input = x;
  if (g.padTop > 0 || g.padLeft > 0 || padBottom > 0 || padRight > 0) {
    input = compose.run(
      'PadV2',
      { x: input },
      {
        paddings: [
          [0, 0],
          [g.padTop, Math.max(0, padBottom)],
          [g.padLeft, Math.max(0, padRight)],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
  }
  if (padBottom < 0 || padRight < 0) {
    input = compose.run(
      'Slice',
      { x: input },
      { begin: [0, 0, 0, 0], size: [g.batch, neededHeight, neededWidth, g.inChannels] },
    );
  }
  const channelsAsBatch = compose.run('Transpose', { x: input }, { perm: [3, 1, 2, 0] });
  const gradientAsFilter = compose.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const perInputChannel = compose.run(
    'Conv2D',
    { x: channelsAsBatch, filter: gradientAsFilter },
    {
      strides: [1, 1],
      pad: 'valid',
      dataFormat: 'NHWC',
      dilations: [g.strideHeight, g.strideWidth],
    },
  );
  return compose.finish('Transpose', { x: perInputChannel }, { perm: [1, 2, 0, 3] });
}
