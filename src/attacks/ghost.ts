import { gradientLoop } from './gradient-loop.js';
import { MOMENTUM_PARAMETERS } from './mi-fgsm.js';
import { param } from './params.js';
import type { Attack, AttackParams } from './types.js';

const variant = (params: AttackParams) => ({
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
export const ghost: Attack = {
  name: 'ghost',
  kind: 'multi-step',
  description: 'ghost networks: skip or dropout erosion redrawn every step, MI-FGSM (Li et al. 1812.03413)',
  usesLabels: true,
  parameters: [...MOMENTUM_PARAMETERS, param('ghostSkipRange', 0.16), param('ghostDropRate', 0.006)],
  transformable: true,
  variant,
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, norm: 'linf', randomStart: false }, { transforms, variant: variant(params) }),
};
