import * as tf from '@tensorflow/tfjs';
import { gradientLoop, leastLikely } from './gradient-loop.js';
import type { Attack } from './types.js';

/**
 * Single step towards the least-likely class (Kurakin et al. 1611.01236). It never reads the
 * true label, which is why it does not leak labels into adversarially trained models.
 */
export const stepLl: Attack = {
  name: 'step-ll',
  kind: 'single-step',
  description: 'one step of eps towards the least-likely class (Kurakin et al. 1611.01236)',
  usesLabels: false,
  parameters: [],
  defaults: (eps) => ({ steps: 1, stepSize: eps, randomStart: false, decay: 0 }),
  craft: (model, batch, params) =>
    tf.tidy(() =>
      gradientLoop(model, { ...batch, labels: leastLikely(model, batch.images) }, { ...params, steps: 1, stepSize: params.eps, targeted: true, randomStart: false, decay: 0 }),
    ),
};
