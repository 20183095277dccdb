import { gradientLoop } from './gradient-loop.js';
import { param } from './params.js';
import type { Attack } from './types.js';

/** Kurakin et al.'s defaults: step 1/255, min(eps*255 + 4, 1.25*eps*255) iterations. */
export function kurakinSteps(eps: number): number {
  return Math.max(1, Math.round(Math.min(eps * 255 + 4, 1.25 * eps * 255)));
}

/** Kurakin et al.'s step count and step, shared by BIM and the iterative least-likely class method. */
export const KURAKIN_PARAMETERS = [
  param('steps', (p) => kurakinSteps(p.eps as number), 'min(eps*255 + 4, 1.25*eps*255)'),
  param('stepSize', 1 / 255, '1/255', 'alpha per iteration'),
];

/** Basic iterative method / I-FGSM with Kurakin et al.'s schedule (1607.02533, 1611.01236). */
export const bim: Attack = {
  name: 'bim',
  kind: 'multi-step',
  description: 'basic iterative method (I-FGSM): FGSM steps of 1/255, clipped to the eps-ball (Kurakin et al.)',
  usesLabels: true,
  parameters: KURAKIN_PARAMETERS,
  transformable: true,
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, randomStart: false, decay: 0 }, { transforms }),
};
