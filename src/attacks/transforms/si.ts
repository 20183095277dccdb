import * as tf from '@tensorflow/tfjs';
import { param } from '../params.js';
import type { InputTransform } from './types.js';

/** Copies x / 2^i for i < copies, copy-major, as TransferAttack's SIM concatenates them. */
export function scaleCopies(x: tf.Tensor4D, copies: number): tf.Tensor4D {
  return tf.concat(
    Array.from({ length: copies }, (_, i) => (i === 0 ? x : x.div(2 ** i))),
    0,
  ) as tf.Tensor4D;
}

/**
 * Scale invariance (Lin et al. 1908.06281, TransferAttack's SIM): the gradient averaged over the
 * copies x / 2^i, i < 5. Pixel values, not sizes, are scaled, so nothing depends on the image size.
 */
export const si: InputTransform = {
  name: 'si',
  description: 'scale invariance: the gradient averaged over copies x / 2^i (Lin et al. 1908.06281)',
  parameters: [param('scaleCopies', 5)],
  plan: (context) => ({
    copies: context.params.scaleCopies,
    identity: context.params.scaleCopies === 1,
    forward: (x) => scaleCopies(x, context.params.scaleCopies),
  }),
};
