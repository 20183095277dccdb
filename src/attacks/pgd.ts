import { gradientLoop } from './gradient-loop.js';
import type { Attack } from './types.js';

/** Projected gradient descent (Madry et al. 1706.06083), L-inf or L2, from a random start. */
export const pgd: Attack = {
  name: 'pgd',
  kind: 'multi-step',
  description: 'projected gradient descent from a random start, L-inf or L2 (Madry et al. 1706.06083)',
  usesLabels: true,
  parameters: [
    { name: 'steps', default: '10', description: 'iterations' },
    { name: 'stepSize', default: '2.5*eps/steps', description: 'step per iteration' },
    { name: 'randomStart', default: 'true', description: 'start from a uniform point of the eps-ball' },
    { name: 'norm', default: 'linf', description: 'linf or l2' },
  ],
  defaults: (eps) => ({ steps: 10, stepSize: (2.5 * eps) / 10, randomStart: true, decay: 0 }),
  craft: (model, batch, params) => gradientLoop(model, batch, { ...params, decay: 0 }),
};
