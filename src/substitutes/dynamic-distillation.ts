import { ATTACKS, craftAdversarial } from '../attacks/index.js';
import { badOption } from '../common/errors.js';
import { networkLogits, networkSurrogate } from '../compute/network/run.js';
import { argmaxRows } from '../compute/train.js';
import { attackerCount, attackerSlice, concatTargets, fit, newSubstitute, targetsFromAnswer } from './fit.js';
import type { RoundRecord, SubstituteStrategy } from './types.js';

/**
 * Dynamic distillation (AdvGAN's alternation, for any attack): fit on a queried seed set, then
 * each round craft adversarial examples against the current substitute from fresh attacker
 * images, query the target on them, add them to the pool and refit, so the substitute learns
 * the target's boundary where the attacks go. The budget is split evenly over the rounds.
 */
export const dynamicDistillation: SubstituteStrategy = {
  name: 'dynamic-distillation',
  description: 'rounds of: craft adversarial examples on the substitute, query the target on them, refit (AdvGAN)',
  reference: false,
  parameters: [
    {
      name: 'rounds',
      range: { type: 'integer', minimum: 1 },
      default: 4,
      description: 'adversarial rounds after the seed round',
    },
    {
      name: 'attack',
      range: { type: 'string', enum: ATTACKS.names() },
      default: 'fgsm',
      description: 'attack used to place the queries',
    },
    { name: 'eps', range: { type: 'number', minimum: 0, maximum: 1 }, default: 0.3, description: 'eps of that attack' },
  ],
  train: async (context, params) => {
    const rounds = params.number('rounds');
    const attack = params.string('attack');
    const eps = params.number('eps');
    const perRound = Math.floor(Math.min(context.budget, attackerCount(context)) / (rounds + 1));
    if (perRound < 1)
      throw badOption('dynamic-distillation: budget', context.budget, `at least ${rounds + 1} queries (one per round)`);
    const images: Float32Array[] = [];
    const targets: (Int32Array | Float32Array)[] = [];
    const records: RoundRecord[] = [];
    let spent = 0;
    const seed = attackerSlice(context, 0, perRound);
    const seedAnswer = await context.oracle.query(seed, 'substitute-training');
    spent += perRound;
    images.push(seed);
    targets.push(targetsFromAnswer(seedAnswer));
    let network = await fit(
      await newSubstitute(context),
      context,
      seed,
      targets[0] as Int32Array | Float32Array,
      context.seed,
    );
    records.push({ round: 0, queries: spent, fidelity: await context.measureFidelity(network) });
    for (let round = 1; round <= rounds; round++) {
      const clean = attackerSlice(context, round * perRound, perRound);
      const predicted = argmaxRows(await networkLogits(network, clean), context.classes);
      const ids = Array.from({ length: perRound }, (_, i) => round * perRound + i);
      const surrogate = await networkSurrogate(network, 'dynamic-distillation');
      let points: Float32Array;
      try {
        points = await craftAdversarial(attack, surrogate, {
          images: clean,
          trueLabels: predicted,
          ids,
          eps,
          labelSource: 'predicted',
          params: { seed: context.seed + round },
        });
      } finally {
        await surrogate.dispose();
      }
      const before = argmaxRows(await networkLogits(network, points), context.classes);
      const answer = await context.oracle.query(points, 'substitute-training');
      spent += perRound;
      const agreement = before.reduce((s, y, i) => s + (y === answer.labels[i] ? 1 : 0), 0) / perRound;
      images.push(points);
      targets.push(targetsFromAnswer(answer));
      const all = new Float32Array(images.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const part of images) {
        all.set(part, offset);
        offset += part.length;
      }
      network = await fit(network, context, all, concatTargets(targets), context.seed + round);
      records.push({
        round,
        queries: spent,
        fidelity: await context.measureFidelity(network),
        attackPointAgreement: agreement,
      });
    }
    return { network, rounds: records };
  },
};
