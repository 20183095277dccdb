import { attackerCount, attackerSlice, fit, newSubstitute, targetsFromAnswer } from './fit.js';
import type { SubstituteStrategy } from './types.js';

/**
 * Static distillation (AdvGAN, 1801.02610): query the target once on a transfer set of the
 * attacker's images (as many as the budget allows) and fit its answers: soft targets from
 * probabilities or top-k, hard labels from a label-only oracle.
 */
export const staticDistillation: SubstituteStrategy = {
  name: 'static-distillation',
  description: 'query the target once on a transfer set (the whole budget) and fit its answers',
  reference: false,
  parameters: [],
  train: async (context) => {
    const n = Math.min(context.budget, attackerCount(context));
    const images = attackerSlice(context, 0, n);
    const answer = await context.oracle.query(images, 'substitute-training');
    const network = await fit(await newSubstitute(context), context, images, targetsFromAnswer(answer), context.seed);
    return { network, rounds: [{ round: 0, queries: n, fidelity: await context.measureFidelity(network) }] };
  },
};
