import { featureGradientOf, type Crafting } from './crafting.js';
import { featureObjectiveMethod, layerOf } from './fia.js';
import { gradientLoop } from './gradient-loop.js';
import { DECAY_PARAMETER, SCHEDULE_STEPS } from './mi-fgsm.js';
import { param, POSITIVE_INTEGER } from '../common/params.js';
import { LAYER_PARAMETER } from './fia.js';
import { defineAttack, type AttackBatch } from './types.js';

/**
 * NAA's neuron weights (Zhang et al. 2204.00008): d(-z_y)/d feature averaged along the straight path from the black
 * image to the clean one, at (k + 1) / ensembles of the way (integrated gradients), so that ascending
 * (feature - feature(black)) . weights lowers the attribution of the layer's neurons to the true class (their
 * linear transform, gamma 1).
 */
export function* neuronWeights(
  batch: AttackBatch,
  params: { readonly ensembles: number },
  layer: string,
): Crafting<Float32Array> {
  let sum: Float32Array | undefined;
  for (let k = 0; k < params.ensembles; k++) {
    const t = (k + 1) / params.ensembles;
    const scaled = batch.images.map((v) => v * t);
    const tap = yield* featureGradientOf(scaled, batch.labels, layer, { loss: 'logit' });
    if (sum === undefined) sum = Float32Array.from(tap.gradient);
    else for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (tap.gradient[i] as number);
  }
  return (sum ?? new Float32Array(0)).map((v) => v / params.ensembles);
}

/**
 * Neuron Attribution-based Attack (Zhang et al. 2204.00008) with TransferAttack's settings (feature_level/naa.py):
 * MI-FGSM (10 steps of eps/10, decay 1) on the attribution of the layer's change from the black baseline, weights
 * integrated over 30 points of the path. The layer is the surrogate's (no default).
 */
export const naa = defineAttack({
  name: 'naa',
  kind: 'multi-step',
  description: 'neuron attribution-based attack: integrated-gradient neuron weights, MI-FGSM (Zhang et al. 2204.00008)',
  usesLabels: true,
  parameters: [
    ...SCHEDULE_STEPS,
    DECAY_PARAMETER,
    LAYER_PARAMETER,
    param({
      name: 'ensembles',
      range: POSITIVE_INTEGER,
      description: 'NAA: points of the integrated-gradient path',
      default: 30,
    }),
  ],
  transformable: false,
  craft: function* (batch, params) {
    const layer = layerOf('naa', params);
    const weights = yield* neuronWeights(batch, params, layer);
    const black = new Float32Array(batch.images.length);
    const baseline = (yield* featureGradientOf(black, batch.labels, layer, { loss: 'logit' })).feature;
    return yield* gradientLoop(
      batch,
      { ...params, norm: 'linf', randomStart: false },
      { method: featureObjectiveMethod(layer, weights, baseline) },
    );
  },
});
