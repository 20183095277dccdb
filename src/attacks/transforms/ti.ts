import * as tf from '@tensorflow/tfjs';
import { param } from '../../common/params.js';
import { defineTransform } from './types.js';

/** TransferAttack's gkern: a normalised outer product of N(0, 1) densities over linspace(-3, 3, size). */
export function gaussianKernel(size: number, nsig = 3): Float32Array {
  const oneD = Array.from({ length: size }, (_, i) => {
    const x = size === 1 ? -nsig : -nsig + (2 * nsig * i) / (size - 1);
    return Math.exp((-x * x) / 2);
  });
  const kernel = new Float32Array(size * size);
  let sum = 0;
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) sum += (oneD[i] as number) * (oneD[j] as number);
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++) kernel[i * size + j] = ((oneD[i] as number) * (oneD[j] as number)) / sum;
  return kernel;
}

/**
 * Translation invariance (Dong et al. 1904.02884, TransferAttack's TIM): the input gradient is
 * convolved, per channel and with zero padding, by a Gaussian kernel, which approximates the
 * average gradient over translated images. TransferAttack's TIM defaults to a 15x15 kernel on
 * 224-pixel ImageNet images (about 7% of the side); the default here is 5x5 on 28x28 digits, whose strokes
 * are 2-3 pixels wide: a wider kernel blurs the gradient past the stroke. A 1x1 kernel changes nothing.
 */
export const ti = defineTransform({
  name: 'ti',
  description: 'translation invariance: the gradient smoothed by a Gaussian kernel (Dong et al. 1904.02884)',
  parameters: [
    param({
      name: 'kernelSize',
      range: { type: 'integer', minimum: 1, odd: true },
      description: 'TI: side of the Gaussian kernel (odd; 1 leaves the gradient alone)',
      default: 5,
    }),
  ],
  smooth: (gradient, params) => {
    if (params.kernelSize === 1) return undefined;
    const channels = gradient.shape[3];
    const k = params.kernelSize;
    const kernel = gaussianKernel(k);
    const filter = tf.tensor4d(
      Float32Array.from({ length: k * k * channels }, (_, i) => kernel[Math.floor(i / channels)] as number),
      [k, k, channels, 1],
    );
    return tf.depthwiseConv2d(gradient, filter, 1, 'same');
  },
});
