import type { Defence } from './types.js';

/**
 * Bit-depth reduction, Xu et al.'s feature squeezing (1704.01155): each value rounded to one of 2^bits levels. They
 * squeeze MNIST to 1 bit, CIFAR-10 to 5 and ImageNet to 4; 4 is the default here, a level a grey image survives.
 */
export const bitDepthDefence: Defence = {
  name: 'bit-depth',
  description: 'bit-depth reduction to 2^bits levels (Xu et al. 1704.01155)',
  parameters: [{ name: 'bits', default: 4, minimum: 1, maximum: 8, integer: true, description: 'bits per value' }],
  copies: () => 1,
  apply: ({ pixels }, params) => {
    const levels = 2 ** (params.bits as number) - 1;
    return pixels.map((v) => Math.round(v * levels) / levels);
  },
};
