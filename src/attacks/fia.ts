import { TransferbenchError } from '../common/errors.js';
import { Random } from '../common/random.js';
import { featureGradientOf, featureObjectiveOf, type Crafting } from './crafting.js';
import { gradientLoop, type GradientMethod } from './gradient-loop.js';
import { DECAY_PARAMETER, SCHEDULE_STEPS } from './mi-fgsm.js';
import { ANY_STRING, param, POSITIVE_INTEGER } from '../common/params.js';
import { defineAttack, type AttackBatch } from './types.js';

/** The layer of the feature-level attacks (FIA, NAA, ILA): the surrogate's, so no default but none. */
export const LAYER_PARAMETER = param({
  name: 'layer',
  range: ANY_STRING,
  description: 'feature-level attacks: the layer, a value name as `transferbench targets inspect MODEL` lists it',
  default: '',
});

/** The named layer, or a one-line error saying where the names come from. */
export function layerOf(attack: string, params: { readonly layer: string }): string {
  if (params.layer === '')
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${attack}: layer: name the surrogate's layer (\`transferbench targets inspect MODEL.onnx\` lists them)`,
    );
  return params.layer;
}

/**
 * FIA's aggregate gradient (Wang et al. 2107.14185): d z_y / d feature summed over `ensembles` copies of the clean
 * images with each pixel dropped with probability dropRate (drawn per image id), L2-normalised per image and negated,
 * so that ascending sum(feature * weights) suppresses the features the true class leans on.
 */
export function* aggregateGradient(
  batch: AttackBatch,
  params: { readonly ensembles: number; readonly seed: number; readonly dropRate: number },
  layer: string,
): Crafting<Float32Array> {
  const n = batch.labels.length;
  const size = batch.images.length / Math.max(1, n);
  let sum: Float32Array | undefined;
  for (let copy = 0; copy < params.ensembles; copy++) {
    const masked = new Float32Array(batch.images.length);
    for (let i = 0; i < n; i++) {
      const random = new Random(params.seed).fork(`fia/${batch.ids[i]}/${copy}`);
      for (let p = i * size; p < (i + 1) * size; p++)
        masked[p] = random.next() < params.dropRate ? 0 : (batch.images[p] as number);
    }
    // The logit loss is -z_y: its feature gradient is already the negated d z_y / d feature.
    const tap = yield* featureGradientOf(masked, batch.labels, layer, { loss: 'logit' });
    if (sum === undefined) sum = Float32Array.from(tap.gradient);
    else for (let k = 0; k < sum.length; k++) sum[k] = (sum[k] as number) + (tap.gradient[k] as number);
  }
  const weights = sum ?? new Float32Array(0);
  const features = weights.length / Math.max(1, n);
  for (let i = 0; i < n; i++) {
    let squared = 0;
    for (let k = i * features; k < (i + 1) * features; k++) squared += (weights[k] as number) ** 2;
    const norm = Math.sqrt(squared) + 1e-12;
    for (let k = i * features; k < (i + 1) * features; k++) weights[k] = (weights[k] as number) / norm;
  }
  return weights;
}

/** The gradient method of a feature objective: each step's gradient is d sum(feature * weights) / d x. */
export function featureObjectiveMethod(layer: string, weights: Float32Array, reference?: Float32Array): GradientMethod {
  return {
    gradient: function* (_context, state) {
      const request = { layer, weights, ...(reference ? { reference } : {}) };
      return (yield* featureObjectiveOf(state.x, request)).gradient;
    },
  };
}

/**
 * Feature Importance-aware Attack (Wang et al. 2107.14185) with TransferAttack's settings (feature_level/fia.py):
 * MI-FGSM (10 steps of eps/10, decay 1) on sum(feature * weights), the aggregate gradient over 30 copies with 30% of
 * the pixels dropped. The layer has no default: it is the surrogate's (TransferAttack: ResNet-18's layer2; the paper:
 * Inception-v3's Mixed_5b, ResNet's block 2).
 */
export const fia = defineAttack({
  name: 'fia',
  kind: 'multi-step',
  description:
    'feature importance-aware attack: aggregate gradient of 30 masked copies, MI-FGSM (Wang et al. 2107.14185)',
  usesLabels: true,
  parameters: [
    ...SCHEDULE_STEPS,
    DECAY_PARAMETER,
    LAYER_PARAMETER,
    param({
      name: 'ensembles',
      range: POSITIVE_INTEGER,
      description: 'FIA: randomly masked copies the aggregate gradient averages',
      default: 30,
    }),
    param({
      name: 'dropRate',
      range: { type: 'number', minimum: 0, maximum: 0.99 },
      description: 'FIA: probability of dropping each pixel of a masked copy',
      default: 0.3,
    }),
  ],
  transformable: false,
  craft: function* (batch, params) {
    const layer = layerOf('fia', params);
    const weights = yield* aggregateGradient(batch, params, layer);
    return yield* gradientLoop(
      batch,
      { ...params, norm: 'linf', randomStart: false },
      { method: featureObjectiveMethod(layer, weights) },
    );
  },
});
