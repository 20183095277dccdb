import { gradientLoop } from './gradient-loop.js';
import { param } from './params.js';
import type { Attack } from './types.js';

/** Projected gradient descent (Madry et al. 1706.06083), L-inf or L2, from a random start. */
export const pgd: Attack = {
  name: 'pgd',
  kind: 'multi-step',
  description: 'projected gradient descent from a random start, L-inf or L2 (Madry et al. 1706.06083)',
  usesLabels: true,
  parameters: [
    param('steps', 10),
    param('stepSize', (p) => (2.5 * (p.eps as number)) / (p.steps as number), '2.5*eps/steps'),
    param('randomStart', true),
    param('norm', 'linf'),
  ],
  transformable: true,
  craft: (batch, params, transforms) => gradientLoop(batch, { ...params, decay: 0 }, { transforms }),
};
