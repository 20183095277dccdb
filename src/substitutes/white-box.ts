import { TransferbenchError } from '../common/errors.js';
import { convertTfjs } from '../compute/network/from-tfjs.js';
import { loadTfjs } from '../compute/persist.js';
import type { SubstituteStrategy } from './types.js';

/**
 * The white-box reference: for zoo targets the harness built itself, the target's own tfjs
 * weights stand in as the substitute, the upper bound every transfer figure is read against.
 */
export const whiteBox: SubstituteStrategy = {
  name: 'white-box',
  description: "reference, not an attack setting: the target's own weights (zoo targets only)",
  reference: true,
  parameters: [],
  train: async (context) => {
    if (context.whiteBoxWeights === undefined) {
      throw new TransferbenchError(
        'BAD_OPTION',
        `white-box: target ${context.oracle.targetName} is not a zoo ` +
          `target built by transferbench, so its weights are unknown; use ` +
          `another strategy`,
      );
    }
    const model = await loadTfjs(context.whiteBoxWeights);
    let network: ReturnType<typeof convertTfjs>['network'];
    try {
      network = { ...convertTfjs(model).network, architecture: context.architecture };
    } finally {
      model.dispose();
    }
    return { network, rounds: [{ round: 0, queries: 0, fidelity: await context.measureFidelity(network) }] };
  },
};
