import { attackFor, resolveParams } from '../attacks/index.js';
import { TransferbenchError } from '../common/errors.js';
import { buildNetwork, NETWORKS } from '../compute/network/architectures.js';
import { NETWORK_IO } from '../compute/network/network.js';
import { checkVariantGraph } from '../compute/onnx-gradient/index.js';
import { suiteArchitectures } from './grid.js';
import type { Suite } from './suite-types.js';

/**
 * Refuses, before anything is trained, a model-related attack entry (sgm, linbp, ghost) on a substitute network that
 * cannot take it: SGM on a network without skip connections, LinBP at a value the network lacks. Each of the suite's
 * architectures is built untrained once (the graph does not depend on the weights); a pretrained surrogate or an
 * ensemble has no network of ours here and is checked when it opens.
 */
export function checkModelRelatedAttacks(
  suite: Suite,
  data: { readonly imageShape: readonly [number, number, number]; readonly classes: number },
  source: string,
): void {
  const graphs = new Map<string, ReturnType<typeof buildNetwork>['graph']>();
  const graphOf = (architecture: string) => {
    let graph = graphs.get(architecture);
    if (graph === undefined) {
      graph = buildNetwork(architecture, { imageShape: data.imageShape, classes: data.classes, seed: 0 }).graph;
      graphs.set(architecture, graph);
    }
    return graph;
  };
  const architectures = suiteArchitectures(suite).filter((a) => NETWORKS.has(a));
  suite.attacks.forEach((entry, i) => {
    const attack = attackFor(entry.name, entry.transforms);
    if (attack.variant === undefined) return;
    for (const architecture of architectures) {
      if (entry.architectures !== undefined && !entry.architectures.includes(architecture)) continue;
      for (const eps of entry.eps) {
        try {
          const variant = attack.variant(resolveParams(attack, eps, { ...entry.params, seed: suite.seed }));
          checkVariantGraph(architecture, variant, graphOf(architecture), NETWORK_IO.images);
        } catch (error) {
          throw new TransferbenchError(
            'BAD_CONFIG',
            `${source}: attacks[${i}] on substitute architecture ${architecture}: ${(error as Error).message} ` +
              '(an entry\'s "architectures" restricts it to the networks it fits)',
          );
        }
      }
    }
  });
}
