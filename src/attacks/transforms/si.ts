import * as tf from '@tensorflow/tfjs';
import { param, POSITIVE_INTEGER } from '../../common/params.js';
import { defineTransform } from './types.js';

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
/** SI's and Admix's copies (Admix scales each mixture as SI does). */
export const SCALE_COPIES = param({
  name: 'scaleCopies',
  range: POSITIVE_INTEGER,
  description: 'SI and Admix: scale copies x / 2^i, i < scaleCopies',
  default: 5,
});

export const si = defineTransform({
  name: 'si',
  description: 'scale invariance: the gradient averaged over copies x / 2^i (Lin et al. 1908.06281)',
  parameters: [SCALE_COPIES],
  plan: (_context, params) => ({
    copies: params.scaleCopies,
    identity: params.scaleCopies === 1,
    forward: (x) => scaleCopies(x, params.scaleCopies),
  }),
});
