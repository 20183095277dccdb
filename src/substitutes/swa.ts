import { averageWeights, recomputeBatchStatistics } from '../compute/network/snapshots.js';
import type { SubstituteStrategy } from './types.js';
import { collectVicinity, VICINITY_PARAMETERS } from './weight-vicinity.js';

/**
 * SWA (Izmailov et al. 1803.05407), as LGV-SWA in Gubri et al. 2207.13129: the snapshots of LGV's
 * constant-rate epochs averaged into one network, BatchNormalization's statistics then recomputed
 * on the training images, since the averaged weights' activations are no snapshot's. LGV's code
 * also counts the base among the averaged weights; here only the collected snapshots are.
 */
export const swa: SubstituteStrategy = {
  name: 'swa',
  description:
    'SWA (Izmailov et al. 1803.05407; LGV-SWA, 2207.13129): the weight snapshots of constant high-rate SGD epochs ' +
    'from a base surrogate averaged into one network, BatchNorm statistics recomputed on the training images',
  reference: false,
  parameters: VICINITY_PARAMETERS,
  train: async (context, params) => {
    const vicinity = await collectVicinity('swa', context, params);
    const network = await recomputeBatchStatistics(
      averageWeights(vicinity.snapshots),
      vicinity.images,
      context.training.batchSize,
    );
    return {
      network,
      rounds: [{ round: 0, queries: vicinity.queries, fidelity: await context.measureFidelity(network) }],
    };
  },
};
