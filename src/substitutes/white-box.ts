import { TransferbenchError } from '../common/errors.js';
import type { SubstituteStrategy } from './types.js';

/**
 * The white-box reference: for zoo targets the harness built itself, the target's own ONNX graph
 * and weights stand in as the substitute, the upper bound every transfer figure is read against.
 */
export const whiteBox: SubstituteStrategy = {
  name: 'white-box',
  description: "reference, not an attack setting: the target's own weights (zoo targets only)",
  reference: true,
  parameters: [],
  train: async (context) => {
    if (context.whiteBoxModel === undefined || context.openNetwork === undefined) {
      throw new TransferbenchError(
        'BAD_OPTION',
        `white-box: target ${context.oracle.targetName} is not a zoo ` +
          `target built by transferbench, so its weights are unknown; use ` +
          `another strategy`,
      );
    }
    const opened = await context.openNetwork(context.whiteBoxModel, { fresh: false, seed: context.seed });
    const network = { ...opened, architecture: context.architecture };
    return { network, rounds: [{ round: 0, queries: 0, fidelity: await context.measureFidelity(network) }] };
  },
};
