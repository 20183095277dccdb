import { TransferbenchError } from '../common/errors.js';
import { gradientLoop } from './gradient-loop.js';
import { MOMENTUM_PARAMETERS } from './mi-fgsm.js';
import { ANY_STRING, param } from '../common/params.js';
import { defineAttack } from './types.js';

function variant(params: { readonly linbpLayer: string }) {
  if (params.linbpLayer === '')
    throw new TransferbenchError(
      'BAD_CONFIG',
      "linbp: linbpLayer: name the surrogate's value after which Relus are linear " +
        '(`transferbench targets inspect MODEL.onnx` lists them)',
    );
  return { attack: 'linbp', linbp: { after: params.linbpLayer } };
}

/**
 * LinBP (Guo et al. 2012.03528) after TransferAttack (model_related/linbp.py): MI-FGSM, 10 steps of eps/10 (its
 * docstring's official arguments; its constructor's 300 steps keep the 10-step alpha), decay 1, with every Relu after
 * `linbpLayer` backpropagated as the identity. TransferAttack starts at ResNet-50's block 3_1, about 60% of the way
 * in; a layer name is the surrogate's own, so it has no default. LinBP's re-normalisation of the residual branches'
 * gradients is not done.
 */
export const linbp = defineAttack({
  name: 'linbp',
  kind: 'multi-step',
  description:
    'linear backpropagation: Relus after linbpLayer pass gradients linearly, MI-FGSM (Guo et al. 2012.03528)',
  usesLabels: true,
  parameters: [
    ...MOMENTUM_PARAMETERS,
    param({
      name: 'linbpLayer',
      range: ANY_STRING,
      description: 'LinBP: every Relu after this value backpropagates linearly (a name `targets inspect MODEL` lists)',
      default: '',
    }),
  ],
  transformable: true,
  variant,
  craft: (batch, params, transforms) =>
    gradientLoop(batch, { ...params, norm: 'linf', randomStart: false }, { transforms, variant: variant(params) }),
});
