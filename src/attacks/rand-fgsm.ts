import * as tf from '@tensorflow/tfjs';
import { Random } from '../common/random.js';
import { gradientLoop } from './gradient-loop.js';
import type { Attack } from './types.js';

/**
 * R+FGSM (Tramer et al. 1705.07204): a random step of alpha = eps/2 along the sign of Gaussian
 * noise, then FGSM with the remaining eps - alpha. The total stays within eps.
 */
export const randFgsm: Attack = {
  name: 'rand-fgsm',
  kind: 'single-step',
  description: 'R+FGSM: random sign step of eps/2, then FGSM with eps/2 (Tramer et al. 1705.07204)',
  usesLabels: true,
  parameters: [{ name: 'stepSize', default: 'eps/2', description: 'alpha, the size of the random step' }],
  defaults: (eps) => ({ steps: 1, stepSize: eps / 2, randomStart: false, decay: 0 }),
  craft: (model, batch, params) =>
    tf.tidy(() => {
      const alpha = Math.min(params.stepSize, params.eps);
      const [n, h, w, c] = batch.images.shape;
      const size = h * w * c;
      const signs = new Float32Array(n * size);
      batch.ids.forEach((id, k) => {
        const random = new Random(params.seed).fork(`rand-fgsm:${id}`);
        for (let i = 0; i < size; i++) signs[k * size + i] = random.normal() >= 0 ? alpha : -alpha;
      });
      const start = batch.images.add(tf.tensor4d(signs, [n, h, w, c])).clipByValue(0, 1) as tf.Tensor4D;
      return gradientLoop(model, batch, { ...params, norm: 'linf', steps: 1, stepSize: params.eps - alpha, randomStart: false, decay: 0 }, { start });
    }),
};
