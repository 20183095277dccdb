import { gradientLoop } from './gradient-loop.js';
import { MOMENTUM_PARAMETERS } from './mi-fgsm.js';
import { param } from '../common/params.js';
import { defineAttack } from './types.js';

const variant = (params: {
  readonly ghostSkipRange: number;
  readonly ghostDropRate: number;
  readonly seed: number;
}) => ({
  attack: 'ghost',
  ghost: { skipRange: params.ghostSkipRange, dropRate: params.ghostDropRate, seed: params.seed },
});

/**
 * Ghost networks (Li et al. 1812.03413) as TransferAttack runs them (model_related/ghost.py, GhostNetwork_MIFGSM):
 * MI-FGSM, 10 steps of eps/10, decay 1, each step's gradient on a new ghost of the surrogate. A residual network's
 * skip connections are eroded by lambda ~ U[1 - 0.16, 1 + 0.16] per channel (ghost_random_range 0.16, ghost.py's
 * default and ghost_resnet101's); a network without skips gets dropout erosion, keep probability 0.994
 * (ghost_keep_prob), on every Relu. The ghosts are drawn from the attack's seed and the step (see
 * compute/onnx-gradient/ghost.ts).
 */
export const ghost = defineAttack({
  name: 'ghost',
  kind: 'multi-step',
  description: 'ghost networks: skip or dropout erosion redrawn every step, MI-FGSM (Li et al. 1812.03413)',
  usesLabels: true,
  parameters: [
    ...MOMENTUM_PARAMETERS,
    param({
      name: 'ghostSkipRange',
      range: { type: 'number', minimum: 0, maximum: 1 },
      description: 'Ghost: skip connections times lambda ~ U[1 - r, 1 + r], drawn per iteration (residual networks)',
      default: 0.16,
    }),
    param({
      name: 'ghostDropRate',
      range: { type: 'number', minimum: 0, maximum: 0.99 },
      description: 'Ghost: dropout rate on every Relu output, masks drawn per iteration (networks without skips)',
      default: 0.006,
    }),
  ],
  transformable: true,
  variant,
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, norm: 'linf', randomStart: false }, { transforms, variant: variant(params) }),
});
