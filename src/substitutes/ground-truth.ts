import { attackerCount, attackerSlice, fit, newSubstitute } from './fit.js';
import type { SubstituteStrategy } from './types.js';

/** Classic transfer (Kurakin et al., Goodfellow et al.): trained on true labels, no queries. */
export const groundTruth: SubstituteStrategy = {
  name: 'ground-truth',
  description: "trained on the true labels of the attacker's split; spends no queries (classic transfer)",
  reference: false,
  parameters: [
    {
      name: 'trainImages',
      range: { type: 'integer', minimum: 1 },
      description: "how many of the attacker's images to train on (default: all of them)",
    },
  ],
  train: async (context, params) => {
    const count = params.number('trainImages', attackerCount(context));
    const n = Math.min(count, attackerCount(context));
    const network = await fit(
      await newSubstitute(context),
      context,
      attackerSlice(context, 0, n),
      context.attackerLabels.subarray(0, n),
      context.seed,
    );
    return { network, rounds: [{ round: 0, queries: 0, fidelity: await context.measureFidelity(network) }] };
  },
};
