import { gradientLoop } from './gradient-loop.js';
import type { Attack } from './types.js';

/** Kurakin et al.'s defaults: step 1/255, min(eps*255 + 4, 1.25*eps*255) iterations. */
export function kurakinSteps(eps: number): number {
  return Math.max(1, Math.round(Math.min(eps * 255 + 4, 1.25 * eps * 255)));
}

/** Basic iterative method / I-FGSM (Kurakin et al. 1607.02533, 1611.01236). */
export const bim: Attack = {
  name: 'bim',
  kind: 'multi-step',
  description: 'basic iterative method (I-FGSM): FGSM steps of 1/255, clipped to the eps-ball (Kurakin et al.)',
  usesLabels: true,
  parameters: [
    { name: 'steps', default: 'min(eps*255 + 4, 1.25*eps*255)', description: 'iterations' },
    { name: 'stepSize', default: '1/255', description: 'alpha per iteration' },
  ],
  defaults: (eps) => ({ steps: kurakinSteps(eps), stepSize: 1 / 255, randomStart: false, decay: 0 }),
  craft: (model, batch, params) => gradientLoop(model, batch, { ...params, randomStart: false, decay: 0 }),
};
