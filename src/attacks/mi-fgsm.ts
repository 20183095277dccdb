import { gradientLoop } from './gradient-loop.js';
import type { Attack } from './types.js';

/** Momentum iterative FGSM (Dong et al. 1710.06081): L1-normalised gradients accumulated with decay mu. */
export const miFgsm: Attack = {
  name: 'mi-fgsm',
  kind: 'multi-step',
  description: 'momentum iterative FGSM, decay 1.0 (Dong et al. 1710.06081)',
  usesLabels: true,
  parameters: [
    { name: 'steps', default: '10', description: 'iterations' },
    { name: 'stepSize', default: 'eps/steps', description: 'step per iteration' },
    { name: 'decay', default: '1.0', description: 'momentum decay mu' },
  ],
  defaults: (eps) => ({ steps: 10, stepSize: eps / 10, randomStart: false, decay: 1.0 }),
  // decay 0 is plain I-FGSM: sign(g / |g|_1) = sign(g).
  craft: (model, batch, params) => gradientLoop(model, batch, { ...params, norm: 'linf' }),
};
