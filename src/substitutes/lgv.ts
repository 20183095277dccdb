import { meanLogitsNetwork, snapshotNetworks } from '../compute/network/snapshots.js';
import { networkSurrogate } from '../compute/network/run.js';
import { SnapshotCycleSurrogate } from '../compute/snapshot-cycle-surrogate.js';
import type { Surrogate } from '../compute/surrogate.js';
import type { SubstituteStrategy } from './types.js';
import { collectVicinity, VICINITY_PARAMETERS } from './weight-vicinity.js';

export const LGV_COMBINATIONS = ['cycle', 'logits'] as const;

/**
 * LGV (Gubri et al., ECCV 2022, 2207.13129): from a base surrogate, a few epochs of SGD at a high
 * constant learning rate, the weights collected along the way, and the attack crafted on them. The
 * snapshots are kept as one graph whose logits are the mean of theirs (network/snapshots.ts: what
 * the cache holds and fidelity reads). Attacks see them as the paper's code does by default
 * (`cycle`: step i of the gradient loop on snapshot i mod K alone, SnapshotCycleSurrogate), or as
 * the logits ensemble of all of them at every step (`logits`).
 */
export const lgv: SubstituteStrategy = {
  name: 'lgv',
  description:
    'LGV (Gubri et al. 2207.13129): constant high-rate SGD epochs from a base surrogate; the attack takes one ' +
    'collected weight snapshot per step (or their mean logits)',
  reference: false,
  parameters: [
    ...VICINITY_PARAMETERS,
    {
      name: 'combine',
      range: { type: 'string', enum: LGV_COMBINATIONS },
      default: 'cycle',
      attackOnly: true,
      description:
        "how attacks use the snapshots: `cycle`, step i on snapshot i mod K (the paper's code; what the gradient " +
        'loop does not number, C&W, AdvGAN, logits, uses the mean), or `logits`, the mean logits of all at every step',
    },
  ],
  train: async (context, params) => {
    const vicinity = await collectVicinity('lgv', context, params);
    const network = meanLogitsNetwork(vicinity.snapshots, `lgv(${vicinity.base.architecture})`);
    return {
      network,
      rounds: [{ round: 0, queries: vicinity.queries, fidelity: await context.measureFidelity(network) }],
    };
  },
  surrogateOf: async (network, name, params) => {
    const whole = await networkSurrogate(network, name);
    if (params.string('combine') === 'logits') return whole;
    const snapshots: Surrogate[] = [];
    try {
      for (const [k, snapshot] of snapshotNetworks(network).entries())
        snapshots.push(await networkSurrogate(snapshot, `${name}/snapshot${k}`));
    } catch (error) {
      for (const s of [...snapshots, whole]) await s.dispose();
      throw error;
    }
    return new SnapshotCycleSurrogate(name, snapshots, whole);
  },
};
