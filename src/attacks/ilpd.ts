import { Random } from '../common/random.js';
import { decayedGradientOf } from './crafting.js';
import { layerOf } from './fia.js';
import { gradientLoop, type GradientMethod } from './gradient-loop.js';
import { param } from './params.js';
import type { Attack, AttackBatch, AttackParams } from './types.js';

/** The clean images plus sigma N(0, 1) noise, drawn per image id and evaluation (not clipped, as the reference). */
export function noisyClean(batch: AttackBatch, params: AttackParams, evaluation: number): Float32Array {
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
export function decayedMethod(layer: string): GradientMethod {
  return {
    gradient: function* (context, state) {
      const { batch, params } = context;
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
export const ilpd: Attack = {
  name: 'ilpd',
  kind: 'multi-step',
  description:
    "intermediate-level perturbation decay: MI-FGSM through a forward pass that shrinks a layer's perturbation " +
    '(Li et al. 2304.13410)',
  usesLabels: true,
  parameters: [
    param('steps', 100),
    // A fixed step, as the reference's alpha: 100 steps of 1/255 reach its eps 16/255 many times over.
    param('stepSize', 1 / 255, '1/255'),
    param('loss', 'cross-entropy'),
    param('decay', 1.0, '1.0', 'momentum decay mu'),
    param('layer', ''),
    param('perturbationDecay', 0.1),
    param('referenceNoise', 0.05),
  ],
  transformable: false,
  craft: function* (batch, params) {
    const layer = layerOf('ilpd', params);
    return yield* gradientLoop(
      batch,
      { ...params, norm: 'linf', randomStart: false },
      { method: decayedMethod(layer) },
    );
  },
};
