import { compose } from './compositions.js';
import { LOSS_PARAMETER, miFgsm } from './mi-fgsm.js';
import { param, NON_NEGATIVE, POSITIVE_INTEGER } from '../common/params.js';
import type { Attack } from './types.js';

/**
 * The logit attack of Zhao et al. 2012.11207 as TransferAttack runs it (targeted/logit.py): MI-FGSM with DI and
 * TI on the loss -z_t, 300 iterations of 2/255 (targeted transfer converges slowly; at 10 iterations it looks
 * hopeless). Untargeted, the loss is -z_y ascended: the true logit pushed down.
 */
const composed = compose(miFgsm, ['di', 'ti'], 'logit');

export const logit: Attack = {
  ...composed,
  description: 'logit loss -z_t, MI-DI-TI, 300 iterations of 2/255 (Zhao et al. 2012.11207)',
  parameters: [
    param({ name: 'steps', range: POSITIVE_INTEGER, description: 'iterations', default: 300 }),
    param({
      name: 'stepSize',
      range: NON_NEGATIVE,
      description: 'step per iteration',
      default: 2 / 255,
      defaultText: '2/255',
    }),
    { ...LOSS_PARAMETER, default: 'logit' },
    ...composed.parameters.filter((p) => !['steps', 'stepSize', 'loss'].includes(p.name)),
  ],
};
