import { Random } from '../common/random.js';
import { decayedGradientOf } from './crafting.js';
import { layerOf } from './fia.js';
import { gradientLoop, type GradientMethod } from './gradient-loop.js';
import { NON_NEGATIVE, param, POSITIVE_INTEGER } from '../common/params.js';
import type { TransferLoss } from './vocabulary.js';
import { DECAY_PARAMETER, LOSS_PARAMETER } from './mi-fgsm.js';
import { LAYER_PARAMETER } from './fia.js';
import { defineAttack, type AttackBatch } from './types.js';

/** What ILPD's gradient reads of its parameters. */
interface DecaySettings {
  readonly loss: TransferLoss;
  readonly seed: number;
  readonly perturbationDecay: number;
  readonly referenceNoise: number;
}

/** The clean images plus sigma N(0, 1) noise, drawn per image id and evaluation (not clipped, as the reference). */
export function noisyClean(
  batch: AttackBatch,
  params: Pick<DecaySettings, 'seed' | 'referenceNoise'>,
  evaluation: number,
): Float32Array {
  const n = batch.labels.length;
  const size = batch.images.length / Math.max(1, n);
  const noisy = Float32Array.from(batch.images);
  if (params.referenceNoise === 0) return noisy;
  for (let i = 0; i < n; i++) {
    const random = new Random(params.seed).fork(`ilpd/${batch.ids[i]}/${evaluation}`);
    for (let p = i * size; p < (i + 1) * size; p++)
      noisy[p] = (noisy[p] as number) + params.referenceNoise * random.normal();
  }
  return noisy;
}

/**
 * ILPD's gradient: each step first reads the layer at a fresh noisy copy of the clean image (the reference, a
 * constant), then differentiates the loss through the forward pass whose layer value is gamma h(x') + (1 - gamma)
 * reference. The reference pass runs the decayed model with gamma 1, whose feature output is the plain h.
 */
export function decayedMethod(layer: string, params: DecaySettings): GradientMethod {
  return {
    gradient: function* (context, state) {
      const { batch } = context;
      // One evaluation per step: the step numbers both passes, for a surrogate that changes with it (LGV's cycle).
      const iteration = state.evaluations++;
      const request = { loss: params.loss, iteration } as const;
      const noisy = noisyClean(batch, params, iteration);
      const reference = (yield* decayedGradientOf(noisy, batch.labels, request, { layer, gamma: 1 })).feature;
      const decay = { layer, gamma: params.perturbationDecay, reference };
      return (yield* decayedGradientOf(state.x, batch.labels, request, decay)).gradient;
    },
  };
}

/**
 * Intermediate-level Perturbation Decay (Li, Guo and Chen, NeurIPS 2023, 2304.13410) as TransferAttack runs it
 * (advanced_objective/ilpd.py): MI-FGSM (decay 1) for 100 iterations of 1/255, the loss taken through a forward pass
 * whose layer output is coef * h(x') + (1 - coef) * h(x + sigma N(0, 1)), coef 0.1 and sigma 0.05, the noisy
 * reference redrawn every iteration. The layer has no default: it is the surrogate's (TransferAttack: ResNet-50's
 * layer2.3).
 */
export const ilpd = defineAttack({
  name: 'ilpd',
  kind: 'multi-step',
  description:
    "intermediate-level perturbation decay: MI-FGSM through a forward pass that shrinks a layer's perturbation " +
    '(Li et al. 2304.13410)',
  usesLabels: true,
  parameters: [
    param({ name: 'steps', range: POSITIVE_INTEGER, description: 'iterations', default: 100 }),
    // A fixed step, as the reference's alpha: 100 steps of 1/255 reach its eps 16/255 many times over.
    param({
      name: 'stepSize',
      range: NON_NEGATIVE,
      description: 'step per iteration',
      default: 1 / 255,
      defaultText: '1/255',
    }),
    LOSS_PARAMETER,
    DECAY_PARAMETER,
    LAYER_PARAMETER,
    param({
      name: 'perturbationDecay',
      range: { type: 'number', minimum: 0, maximum: 1 },
      description: "ILPD: gamma, the share of the layer's perturbation its decayed forward pass keeps (1: no decay)",
      default: 0.1,
    }),
    param({
      name: 'referenceNoise',
      range: NON_NEGATIVE,
      description: "ILPD: sigma of the Gaussian noise on the clean image whose layer value is the decay's reference",
      default: 0.05,
    }),
  ],
  transformable: false,
  craft: function* (batch, params) {
    const layer = layerOf('ilpd', params);
    return yield* gradientLoop(
      batch,
      { ...params, norm: 'linf', randomStart: false },
      { method: decayedMethod(layer, params) },
    );
  },
});
