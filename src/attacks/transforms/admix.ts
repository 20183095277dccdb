import * as tf from '@tensorflow/tfjs';
import { Random } from '../../common/random.js';
import { NON_NEGATIVE, param, POSITIVE_INTEGER } from '../../common/params.js';
import { SCALE_COPIES, scaleCopies } from './si.js';
import { defineTransform, type TransformContext } from './types.js';

/**
 * For each input image, `copies` images of other classes from the pool, drawn per image key (an
 * image of any class when the pool holds no other). Returned as copies * n images, copy-major.
 */
function otherClassImages(context: TransformContext, copies: number, seed: number): Float32Array {
  const { pool, labels, keys } = context;
  const size = context.imageShape[0] * context.imageShape[1] * context.imageShape[2];
  const n = labels.length;
  const out = new Float32Array(copies * n * size);
  const all = Array.from(pool.labels, (_, i) => i);
  // Pool indices of every class but one, computed once per label seen.
  const othersOf = new Map<number, number[]>();
  const candidatesFor = (label: number): number[] => {
    let list = othersOf.get(label);
    if (list === undefined) {
      const others = all.filter((i) => pool.labels[i] !== label);
      list = others.length > 0 ? others : all;
      othersOf.set(label, list);
    }
    return list;
  };
  for (let k = 0; k < n; k++) {
    const random = new Random(seed).fork(`admix:${context.evaluation}:${keys[k]}`);
    const candidates = candidatesFor(labels[k] as number);
    for (let j = 0; j < copies; j++) {
      const pick = candidates[random.int(candidates.length)] as number;
      out.set(pool.images.subarray(pick * size, (pick + 1) * size), (j * n + k) * size);
    }
  }
  return out;
}

/**
 * Admix (Wang et al. 2102.00436, TransferAttack's Admix): each image mixed with admixCopies images
 * of other classes, x + eta x', and each mixture scaled as in SI (x / 2^i, i < scaleCopies): 3 x 5
 * copies with eta 0.2 by default. The mixed-in images are constants (no gradient flows into them).
 * They come from the attacker's labelled images (the paper's "images of other categories"); the
 * batch itself when none are given. With one copy, one scale and eta 0 it changes nothing.
 */
export const admix = defineTransform({
  name: 'admix',
  description:
    "Admix: the gradient averaged over x + eta x' for images x' of other classes, each scaled as in SI (Wang " +
    'et al. 2102.00436)',
  parameters: [
    param({
      name: 'admixCopies',
      range: POSITIVE_INTEGER,
      description: 'Admix: images of other classes mixed in per scale copy',
      default: 3,
    }),
    param({
      name: 'admixStrength',
      range: NON_NEGATIVE,
      description: 'Admix: weight eta of the mixed-in image',
      default: 0.2,
    }),
    SCALE_COPIES,
  ],
  plan: (context, params) => {
    const { admixCopies, admixStrength } = params;
    const scales = params.scaleCopies;
    const identity = admixCopies === 1 && scales === 1 && admixStrength === 0;
    const mixed = identity ? new Float32Array(0) : otherClassImages(context, admixCopies, params.seed);
    return {
      copies: admixCopies * scales,
      identity,
      forward: (x) => {
        const others = tf.tensor4d(mixed, [admixCopies * x.shape[0], ...context.imageShape]).mul(admixStrength);
        const mixtures = tf
          .concat(
            Array.from({ length: admixCopies }, () => x),
            0,
          )
          .add(others) as tf.Tensor4D;
        return scaleCopies(mixtures, scales);
      },
    };
  },
});
