import { meanLogitsNetwork } from '../compute/network/snapshots.js';
import type { SubstituteStrategy } from './types.js';
import { collectVicinity, VICINITY_PARAMETERS } from './weight-vicinity.js';

/**
 * LGV (Gubri et al., ECCV 2022, 2207.13129): from a base surrogate, a few epochs of SGD at a high
 * constant learning rate, the weights collected along the way, and the attack crafted on them.
 * The paper's code attacks one snapshot per iteration, cycling through them
 * (`ExtendedProjectedGradientDescentPyTorch`, estimators[i % K]); a surrogate here answers every
 * gradient the same whatever the iteration, so this is the ensemble variant: one graph whose
 * logits are the mean of the snapshots' (network/snapshots.ts), each iteration's gradient taken
 * through all of them.
 */
export const lgv: SubstituteStrategy = {
  name: 'lgv',
  description:
    'LGV (Gubri et al. 2207.13129): constant high-rate SGD epochs from a base surrogate, the collected weight ' +
    "snapshots' logits averaged into one surrogate",
  reference: false,
  parameters: VICINITY_PARAMETERS,
  train: async (context, params) => {
    const vicinity = await collectVicinity('lgv', context, params);
    const network = meanLogitsNetwork(vicinity.snapshots, `lgv(${vicinity.base.architecture})`);
    return {
      network,
      rounds: [{ round: 0, queries: vicinity.queries, fidelity: await context.measureFidelity(network) }],
    };
  },
};
