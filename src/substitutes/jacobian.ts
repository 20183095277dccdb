import { badOption } from '../common/errors.js';
import { Random } from '../common/random.js';
import { networkSurrogate } from '../compute/network/run.js';
import { attackerCount, attackerSlice, fit, newSubstitute } from './fit.js';
import type { OnnxNetwork } from '../compute/network/network.js';
import type { RoundRecord, SubstituteStrategy } from './types.js';

export interface JacobianPlan {
  readonly seedCount: number;
  readonly rounds: number;
  /** Rounds after which the set stops doubling and only `reservoir` new points are added per round. */
  readonly reservoirAfter: number;
  readonly reservoir: number;
}

/**
 * Queries per round of Papernot et al.'s augmentation: the seed set, then as many new points as
 * the set holds (it doubles) up to round sigma, then kappa per round (reservoir sampling).
 */
export function jacobianQueriesPerRound(plan: JacobianPlan): number[] {
  const perRound = [plan.seedCount];
  let size = plan.seedCount;
  for (let r = 1; r < plan.rounds; r++) {
    const added = r <= plan.reservoirAfter ? size : Math.min(plan.reservoir, size);
    perRound.push(added);
    size += added;
  }
  return perRound;
}

/**
 * Jacobian-based dataset augmentation (Papernot et al. 1602.02697): from a small seed set,
 * label with the oracle, fit, and add x + lambda * sign(dF_{O(x)}/dx) for points of the set;
 * lambda flips sign every tau rounds; after sigma rounds, reservoir sampling bounds the growth.
 * Plans its rounds within the budget before spending anything.
 */
export const jacobian: SubstituteStrategy = {
  name: 'jacobian',
  description:
    'Jacobian-based dataset augmentation from 150 seeds, lambda 0.1 ' +
    'with sign flips, reservoir sampling (Papernot et al. 1602.02697)',
  reference: false,
  parameters: [
    {
      name: 'seedCount',
      range: { type: 'integer', minimum: 1 },
      default: 150,
      description: 'initial images: the first ones of the attacker split (shuffled, stratified)',
    },
    {
      name: 'rounds',
      range: { type: 'integer', minimum: 1 },
      default: 6,
      description: 'substitute training epochs rho (rounds)',
    },
    {
      name: 'lambda',
      range: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
      default: 0.1,
      description: 'augmentation step',
    },
    {
      name: 'tau',
      range: { type: 'integer', minimum: 1 },
      default: 3,
      description: 'lambda changes sign every tau rounds',
    },
    {
      name: 'reservoirAfter',
      range: { type: 'integer', minimum: 0 },
      default: 3,
      description: 'sigma: rounds of doubling before reservoir sampling',
    },
    {
      name: 'reservoir',
      range: { type: 'integer', minimum: 1 },
      default: 400,
      description: 'kappa: new points per round after sigma',
    },
  ],
  train: async (context, params) => {
    const plan: JacobianPlan = {
      seedCount: params.number('seedCount'),
      rounds: params.number('rounds'),
      reservoirAfter: params.number('reservoirAfter'),
      reservoir: params.number('reservoir'),
    };
    const lambda = params.number('lambda');
    const tau = params.number('tau');
    const perRound = jacobianQueriesPerRound(plan);
    // Plan within the budget: drop whole rounds that would not fit.
    let affordable = 0;
    let total = 0;
    while (affordable < perRound.length && total + (perRound[affordable] as number) <= context.budget)
      total += perRound[affordable++] as number;
    if (affordable === 0)
      throw badOption('jacobian: budget', context.budget, `at least seedCount (${plan.seedCount}) queries`);
    if (plan.seedCount > attackerCount(context))
      throw badOption('jacobian: seedCount', plan.seedCount, `at most the ${attackerCount(context)} attacker images`);
    const [h, w, c] = context.imageShape;
    const size = h * w * c;
    const random = new Random(context.seed).fork('jacobian');
    let set: Float32Array = Float32Array.from(attackerSlice(context, 0, plan.seedCount));
    let labels = new Int32Array(0);
    let pending: Float32Array = set;
    let network = await newSubstitute(context);
    const records: RoundRecord[] = [];
    let spent = 0;
    for (let round = 0; round < affordable; round++) {
      const answer = await context.oracle.query(pending, 'substitute-training');
      spent += answer.count;
      const merged = new Int32Array(labels.length + answer.count);
      merged.set(labels);
      merged.set(answer.labels, labels.length);
      labels = merged;
      network = await fit(network, context, set, labels, context.seed + round);
      records.push({ round, queries: spent, fidelity: await context.measureFidelity(network) });
      if (round + 1 >= affordable) break;
      const count = labels.length;
      const toAugment =
        round + 1 <= plan.reservoirAfter
          ? Int32Array.from({ length: count }, (_, i) => i)
          : random.permutation(count).subarray(0, Math.min(plan.reservoir, count));
      const step = lambda * (Math.floor(round / tau) % 2 === 0 ? 1 : -1);
      const chosen = new Float32Array(toAugment.length * size);
      toAugment.forEach((i, j) => chosen.set(set.subarray(i * size, (i + 1) * size), j * size));
      const chosenLabels = Int32Array.from(toAugment, (i) => labels[i] as number);
      pending = await augment(network, chosen, chosenLabels, step);
      const grown = new Float32Array(set.length + pending.length);
      grown.set(set);
      grown.set(pending, set.length);
      set = grown;
    }
    return { network, rounds: records };
  },
};

/**
 * x + lambda sign(dF_{O(x)}/dx), clipped to [0, 1]: the substitute's probability of the oracle's
 * label, whose gradient is -p times that of the cross-entropy -log p, so its sign is the opposite
 * of the cross-entropy gradient's (p > 0), which the surrogate computes on onnxruntime.
 */
async function augment(
  network: OnnxNetwork,
  images: Float32Array,
  labels: Int32Array,
  step: number,
): Promise<Float32Array> {
  const surrogate = await networkSurrogate(network, 'jacobian');
  try {
    const { gradient } = await surrogate.lossGradient(images, labels, { loss: 'cross-entropy' });
    const out = new Float32Array(images.length);
    for (let i = 0; i < images.length; i++) {
      const g = gradient[i] as number;
      const moved = (images[i] as number) - step * Math.sign(g);
      out[i] = moved < 0 ? 0 : moved > 1 ? 1 : moved;
    }
    return out;
  } finally {
    await surrogate.dispose();
  }
}
