import { gradientLoop } from './gradient-loop.js';
import { BOOLEAN, NON_NEGATIVE, param, POSITIVE_INTEGER } from '../common/params.js';
import { NORMS } from './vocabulary.js';
import { defineAttack } from './types.js';

/** Projected gradient descent (Madry et al. 1706.06083), L-inf or L2, from a random start. */
export const pgd = defineAttack({
  name: 'pgd',
  kind: 'multi-step',
  description: 'projected gradient descent from a random start, L-inf or L2 (Madry et al. 1706.06083)',
  usesLabels: true,
  parameters: [
    param({ name: 'steps', range: POSITIVE_INTEGER, description: 'iterations', default: 10 }),
    param({
      name: 'stepSize',
      range: NON_NEGATIVE,
      description: 'step per iteration',
      default: (p) => (2.5 * (p.eps as number)) / (p.steps as number),
      defaultText: '2.5*eps/steps',
    }),
    param({
      name: 'randomStart',
      range: BOOLEAN,
      description: 'start from a uniform point of the eps-ball',
      default: true,
    }),
    param({
      name: 'norm',
      range: { type: 'string', enum: NORMS },
      description: 'norm of the budget and of the step: linf or l2',
      default: 'linf',
    }),
  ],
  transformable: true,
  craft: (batch, params, transforms) => gradientLoop(batch, { ...params, decay: 0 }, { transforms }),
});
