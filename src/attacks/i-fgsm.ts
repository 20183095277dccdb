import { gradientLoop } from './gradient-loop.js';
import { SCHEDULE_PARAMETERS } from './mi-fgsm.js';
import { defineAttack } from './types.js';

/**
 * I-FGSM with TransferAttack's schedule (10 steps of eps/steps): the baseline of their table,
 * where `bim` keeps Kurakin et al.'s 1/255 steps.
 */
export const iFgsm = defineAttack({
  name: 'i-fgsm',
  kind: 'multi-step',
  description: 'iterative FGSM, 10 steps of eps/10 as in TransferAttack (Kurakin et al. 1607.02533)',
  usesLabels: true,
  parameters: SCHEDULE_PARAMETERS,
  transformable: true,
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, norm: 'linf', randomStart: false, decay: 0 }, { transforms }),
});
