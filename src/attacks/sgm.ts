import { gradientLoop } from './gradient-loop.js';
import { MOMENTUM_PARAMETERS } from './mi-fgsm.js';
import { param } from '../common/params.js';
import { defineAttack } from './types.js';

const variant = (params: { readonly sgmGamma: number }) => ({ attack: 'sgm', sgm: { gamma: params.sgmGamma } });

/**
 * Skip Gradient Method (Wu et al. 2002.05990) as TransferAttack runs it (model_related/sgm.py): MI-FGSM, 10 steps of
 * eps/10, decay 1, on the surrogate with every residual branch's gradient times gamma = 0.2 at its skip Add (sgm.py's
 * default, the paper's for iterative attacks on ResNets; 0.5 is its FGSM and DenseNet value). A surrogate without
 * residual Adds refuses: there SGM would be MI-FGSM under another name.
 */
export const sgm = defineAttack({
  name: 'sgm',
  kind: 'multi-step',
  description: 'skip gradient method: residual gradients times gamma 0.2, MI-FGSM (Wu et al. 2002.05990)',
  usesLabels: true,
  parameters: [
    ...MOMENTUM_PARAMETERS,
    param({
      name: 'sgmGamma',
      range: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
      description: "SGM: factor gamma of the residual branches' gradients at every skip Add (1: plain gradient)",
      default: 0.2,
    }),
  ],
  transformable: true,
  variant,
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, norm: 'linf', randomStart: false }, { transforms, variant: variant(params) }),
});
