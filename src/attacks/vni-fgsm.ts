import { gradientLoop } from './gradient-loop.js';
import { NESTEROV } from './ni-fgsm.js';
import { defineAttack } from './types.js';
import { VARIANCE_PARAMETERS, varianceTuned } from './vmi-fgsm.js';

/**
 * VNI-FGSM (Wang and He 2103.15571): NI-FGSM's look-ahead gradient with variance tuning around the look-ahead point.
 */
export const vniFgsm = defineAttack({
  name: 'vni-fgsm',
  kind: 'multi-step',
  description:
    'variance-tuned NI-FGSM: the look-ahead gradient corrected by the gradient variance (Wang and He 2103.15571)',
  usesLabels: true,
  parameters: VARIANCE_PARAMETERS,
  transformable: true,
  craft: (batch, params, transforms) =>
    gradientLoop(
      batch,
      { ...params, norm: 'linf', randomStart: false },
      { transforms, method: varianceTuned(NESTEROV, true, params) },
    ),
});
