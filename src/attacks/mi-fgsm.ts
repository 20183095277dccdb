import { gradientLoop } from './gradient-loop.js';
import { NON_NEGATIVE, param, POSITIVE_INTEGER } from '../common/params.js';
import { TRANSFER_LOSSES } from './vocabulary.js';
import { defineAttack } from './types.js';

/** The gradient loop's loss, which every attack on it may change. */
export const LOSS_PARAMETER = param({
  name: 'loss',
  range: { type: 'string', enum: TRANSFER_LOSSES },
  description:
    'loss of the gradient loop: cross-entropy, logit (-z_y, Zhao et al. 2012.11207) or po-trip (Li et al. 2020)',
  default: 'cross-entropy',
});

/** Momentum decay, 1 for MI-FGSM and the methods built on it. */
export const DECAY_PARAMETER = param({
  name: 'decay',
  range: NON_NEGATIVE,
  description: 'momentum decay mu',
  default: 1.0,
  defaultText: '1.0',
});

/** TransferAttack's schedule (attack.py): 10 iterations of eps/steps. */
export const SCHEDULE_STEPS = [
  param({ name: 'steps', range: POSITIVE_INTEGER, description: 'iterations', default: 10 }),
  param({
    name: 'stepSize',
    range: NON_NEGATIVE,
    description: 'step per iteration',
    default: (p) => (p.eps as number) / (p.steps as number),
    defaultText: 'eps/steps',
  }),
];

/** The schedule and the loss. */
export const SCHEDULE_PARAMETERS = [...SCHEDULE_STEPS, LOSS_PARAMETER];

/** The schedule with momentum decay 1. */
export const MOMENTUM_PARAMETERS = [...SCHEDULE_PARAMETERS, DECAY_PARAMETER];

/** Momentum iterative FGSM (Dong et al. 1710.06081): L1-normalised gradients accumulated with decay mu. */
export const miFgsm = defineAttack({
  name: 'mi-fgsm',
  kind: 'multi-step',
  description: 'momentum iterative FGSM, decay 1.0 (Dong et al. 1710.06081)',
  usesLabels: true,
  parameters: MOMENTUM_PARAMETERS,
  transformable: true,
  // decay 0 is plain I-FGSM: sign(g / |g|_1) = sign(g).
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, norm: 'linf', randomStart: false }, { transforms }),
});
