import * as tf from '@tensorflow/tfjs';
import { kurakinSteps } from './bim.js';
import { gradientLoop, leastLikely } from './gradient-loop.js';
import type { Attack } from './types.js';

/** Iterative least-likely class method (Kurakin et al.): BIM towards the class least likely on the clean image. */
export const iterLl: Attack = {
  name: 'iter-ll',
  kind: 'multi-step',
  description: 'iterative least-likely class: BIM towards the clean image\'s least-likely class (Kurakin et al.)',
  usesLabels: false,
  parameters: [
    { name: 'steps', default: 'min(eps*255 + 4, 1.25*eps*255)', description: 'iterations' },
    { name: 'stepSize', default: '1/255', description: 'alpha per iteration' },
  ],
  defaults: (eps) => ({ steps: kurakinSteps(eps), stepSize: 1 / 255, randomStart: false, decay: 0 }),
  craft: (model, batch, params) =>
    tf.tidy(() => gradientLoop(model, { ...batch, labels: leastLikely(model, batch.images) }, { ...params, targeted: true, randomStart: false, decay: 0 })),
};
