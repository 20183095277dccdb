import { gradientLoop } from './gradient-loop.js';
import { defineAttack } from './types.js';

/** Fast gradient sign method (Goodfellow et al. 1412.6572): one step of eps along sign(grad). */
export const fgsm = defineAttack({
  name: 'fgsm',
  kind: 'single-step',
  description: 'fast gradient sign method, one step of eps (Goodfellow et al. 1412.6572)',
  usesLabels: true,
  parameters: [],
  transformable: true,
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, steps: 1, stepSize: params.eps, randomStart: false, decay: 0 }, { transforms }),
});
