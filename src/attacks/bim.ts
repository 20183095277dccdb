import { gradientLoop } from './gradient-loop.js';
import { NON_NEGATIVE, param, POSITIVE_INTEGER } from '../common/params.js';
import { defineAttack } from './types.js';

/** Kurakin et al.'s defaults: step 1/255, min(eps*255 + 4, 1.25*eps*255) iterations. */
export function kurakinSteps(eps: number): number {
  return Math.max(1, Math.round(Math.min(eps * 255 + 4, 1.25 * eps * 255)));
}

/** Kurakin et al.'s step count and step, shared by BIM and the iterative least-likely class method. */
export const KURAKIN_PARAMETERS = [
  param({
    name: 'steps',
    range: POSITIVE_INTEGER,
    description: 'iterations',
    default: (p) => kurakinSteps(p.eps as number),
    defaultText: 'min(eps*255 + 4, 1.25*eps*255)',
  }),
  param({
    name: 'stepSize',
    range: NON_NEGATIVE,
    description: 'alpha per iteration',
    default: 1 / 255,
    defaultText: '1/255',
  }),
];

/** Basic iterative method / I-FGSM with Kurakin et al.'s schedule (1607.02533, 1611.01236). */
export const bim = defineAttack({
  name: 'bim',
  kind: 'multi-step',
  description: 'basic iterative method (I-FGSM): FGSM steps of 1/255, clipped to the eps-ball (Kurakin et al.)',
  usesLabels: true,
  parameters: KURAKIN_PARAMETERS,
  transformable: true,
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, randomStart: false, decay: 0 }, { transforms }),
});
