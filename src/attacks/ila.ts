import { featureGradientOf, type Crafting } from './crafting.js';
import { LAYER_PARAMETER, layerOf, featureObjectiveMethod } from './fia.js';
import { gradientLoop } from './gradient-loop.js';
import { SCHEDULE_PARAMETERS } from './mi-fgsm.js';
import type { LoopParams } from './gradient-loop.js';
import { defineAttack, type AttackBatch } from './types.js';

/**
 * ILA's second stage from a given direction: I-FGSM ascending (feature(x) - feature(clean)) . direction, the
 * projection of the feature change on the baseline's (Huang et al. 1907.10823). A zero direction moves nothing.
 */
export function* ilaFromDirection(
  batch: AttackBatch,
  params: LoopParams,
  layer: string,
  clean: Float32Array,
  direction: Float32Array,
): Crafting<Float32Array> {
  return yield* gradientLoop(
    batch,
    // Ascending the projection, whether the baseline was targeted or not: its change is the direction to follow.
    { ...params, norm: 'linf', randomStart: false, decay: 0, targeted: false },
    { method: featureObjectiveMethod(layer, direction, clean) },
  );
}

/**
 * Intermediate Level Attack (Huang et al. 1907.10823), projection loss, as TransferAttack runs it
 * (feature_level/ila.py): a baseline I-FGSM (10 steps of eps/10) gives x'; then 10 more steps from the clean image
 * ascend the projection of the layer's change onto f(x') - f(x). The layer is the surrogate's (no default).
 */
export const ila = defineAttack({
  name: 'ila',
  kind: 'multi-step',
  description:
    "intermediate level attack: a baseline I-FGSM's feature change projected at a layer (Huang et al. 1907.10823)",
  usesLabels: true,
  parameters: [...SCHEDULE_PARAMETERS, LAYER_PARAMETER],
  transformable: false,
  craft: function* (batch, params) {
    const layer = layerOf('ila', params);
    const baseline = yield* gradientLoop(batch, { ...params, norm: 'linf', randomStart: false, decay: 0 });
    const request = { loss: params.loss } as const;
    const clean = (yield* featureGradientOf(batch.images, batch.labels, layer, request)).feature;
    const moved = (yield* featureGradientOf(baseline, batch.labels, layer, request)).feature;
    const direction = moved.map((v, k) => v - (clean[k] as number));
    return yield* ilaFromDirection(batch, params, layer, clean, direction);
  },
});
