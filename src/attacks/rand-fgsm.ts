import { Random } from '../common/random.js';
import { gradientLoop } from './gradient-loop.js';
import { NON_NEGATIVE, param } from '../common/params.js';
import { defineAttack } from './types.js';

/**
 * R+FGSM (Tramer et al. 1705.07204): a random step of alpha = eps/2 along the sign of Gaussian
 * noise, then FGSM with the remaining eps - alpha. The total stays within eps.
 */
export const randFgsm = defineAttack({
  name: 'rand-fgsm',
  kind: 'single-step',
  description: 'R+FGSM: random sign step of eps/2, then FGSM with eps/2 (Tramer et al. 1705.07204)',
  usesLabels: true,
  parameters: [
    param({
      name: 'stepSize',
      range: NON_NEGATIVE,
      description: 'alpha, the size of the random step',
      default: (p) => (p.eps as number) / 2,
      defaultText: 'eps/2',
    }),
  ],
  transformable: true,
  craft: (batch, params, transforms) => {
    const alpha = Math.min(params.stepSize, params.eps);
    const size = batch.imageShape[0] * batch.imageShape[1] * batch.imageShape[2];
    const start = new Float32Array(batch.images.length);
    batch.ids.forEach((id, k) => {
      const random = new Random(params.seed).fork(`rand-fgsm:${id}`);
      for (let i = k * size; i < (k + 1) * size; i++) {
        // Same float32 arithmetic as adding the signs in tfjs, then clipping to [0, 1].
        start[i] = Math.min(
          1,
          Math.max(0, Math.fround((batch.images[i] as number) + Math.fround(random.normal() >= 0 ? alpha : -alpha))),
        );
      }
    });
    return gradientLoop(
      batch,
      { ...params, norm: 'linf', steps: 1, stepSize: params.eps - alpha, randomStart: false, decay: 0 },
      { start, transforms },
    );
  },
});
