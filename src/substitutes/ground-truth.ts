import { attackerCount, attackerSlice, fit, newSubstitute } from './fit.js';
import { numberParam, positiveInteger } from './params.js';
import type { SubstituteStrategy } from './types.js';

/** Classic transfer (Kurakin et al., Goodfellow et al.): trained on true labels, no queries. */
export const groundTruth: SubstituteStrategy = {
  name: 'ground-truth',
  description: 'trained on the true labels of the attacker\'s split; spends no queries (classic transfer)',
  reference: false,
  parameters: [{ name: 'trainImages', default: 'all', description: 'how many of the attacker\'s images to train on' }],
  train: async (context, params) => {
    const count = numberParam('ground-truth', params, 'trainImages', attackerCount(context), positiveInteger, 'a positive integer');
    const n = Math.min(count, attackerCount(context));
    const model = newSubstitute(context);
    fit(model, context, attackerSlice(context, 0, n), context.attackerLabels.subarray(0, n), context.seed);
    return { model, rounds: [{ round: 0, queries: 0, fidelity: await context.measureFidelity(model) }] };
  },
};
