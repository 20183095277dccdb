import { gradientLoop } from './gradient-loop.js';
import { param } from './params.js';
import type { Attack } from './types.js';

/** TransferAttack's schedule (attack.py): 10 iterations of eps/steps. */
export const SCHEDULE_PARAMETERS = [
  param('steps', 10),
  param('stepSize', (p) => (p.eps as number) / (p.steps as number), 'eps/steps'),
  param('loss', 'cross-entropy'),
];

/** The schedule with momentum decay 1. */
export const MOMENTUM_PARAMETERS = [...SCHEDULE_PARAMETERS, param('decay', 1.0, '1.0', 'momentum decay mu')];

/** Momentum iterative FGSM (Dong et al. 1710.06081): L1-normalised gradients accumulated with decay mu. */
export const miFgsm: Attack = {
  name: 'mi-fgsm',
  kind: 'multi-step',
  description: 'momentum iterative FGSM, decay 1.0 (Dong et al. 1710.06081)',
  usesLabels: true,
  parameters: MOMENTUM_PARAMETERS,
  transformable: true,
  // decay 0 is plain I-FGSM: sign(g / |g|_1) = sign(g).
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, norm: 'linf', randomStart: false }, { transforms }),
};
