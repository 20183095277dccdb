import assert from 'node:assert/strict';
import { distance, QUERY_ATTACKS, runQueryAttack } from '../../src/query-attacks/index.js';
import type { ImageBudgetOracle } from '../../src/oracle/index.js';
import { linearSurrogate, perturbedLinear, useLinearTarget } from './fixtures.js';

/** The oracle, recording per image each request's answered rows as (count before, count after). */
function recordingRequests(oracle: ImageBudgetOracle) {
  const requests = new Map<number, { before: number; after: number }[]>();
  return Object.assign(Object.create(oracle) as ImageBudgetOracle, {
    requests,
    async query(images: Float32Array, ids: readonly number[]) {
      const before = new Map(ids.map((id) => [id, oracle.spent(id)]));
      const answer = await oracle.query(images, ids);
      for (const [id, count] of before)
        if (oracle.spent(id) > count)
          requests.set(id, [...(requests.get(id) ?? []), { before: count, after: oracle.spent(id) }]);
      return answer;
    },
  });
}

describe('query attacks: every registered attack through a real oracle', () => {
  const t = useLinearTarget(16, 21);
  const { images, ids, size, shape } = t;
  const count = ids.length;
  // Two surrogates: the guided hybrids consult both (P-RGF the first).
  const surrogates = [
    linearSurrogate(perturbedLinear(t.model, 0.3, 9), shape),
    linearSurrogate(perturbedLinear(t.model, 0.5, 10), shape),
  ];

  for (const attack of QUERY_ATTACKS.values()) {
    for (const norm of attack.norms) {
      const eps = norm === 'linf' ? 0.08 : 0.6;
      const mode = attack.kind === 'decision-based' ? 'label' : 'probabilities';
      const run = async (budget: number) => {
        const target = t.target(mode);
        const oracle = recordingRequests(target.withImageBudget(budget));
        const outcome = await runQueryAttack({
          attack: attack.name,
          oracle,
          images,
          labels: t.labels,
          ids,
          eps,
          norm,
          seed: 7,
          streams: 3,
          surrogates,
        });
        return { outcome, oracle, target };
      };

      it(
        `${attack.name} (${norm}, ${mode}): the oracle's count per image ` +
          `never exceeds the budget and equals the attack's tally`,
        async () => {
          const budget = 60;
          const { outcome, oracle, target } = await run(budget);
          let total = 0;
          outcome.images.forEach((image) => {
            assert.ok(oracle.spent(image.id) <= budget, `image ${image.id}: ${oracle.spent(image.id)} > ${budget}`);
            assert.equal(oracle.spent(image.id), image.tally, `image ${image.id}: oracle count vs the attack's tally`);
            assert.equal(image.queries, image.tally);
            if (image.stop === 'budget') {
              assert.equal(image.queries, budget, 'an image stopped by the oracle spent its whole budget');
              assert.equal(image.success, false, 'and is recorded as not fooled within it');
            }
            if (image.success) {
              assert.ok((image.queriesToSuccess as number) >= 1 && (image.queriesToSuccess as number) <= image.queries);
              // The request holding the successful row is the image's last: a fooled image is queried no more.
              const requests = oracle.requests.get(image.id) ?? [];
              const last = requests[requests.length - 1] as { before: number; after: number };
              assert.ok(
                last.before < (image.queriesToSuccess as number) && (image.queriesToSuccess as number) <= last.after,
                `image ${image.id}: fooled at query ${image.queriesToSuccess}, queried until ${last.after}`,
              );
            } else assert.equal(image.queriesToSuccess, null);
            total += image.queries;
          });
          assert.ok(
            outcome.images.some((image) => image.stop === 'budget' || image.success),
            'the budget binds or the attack succeeds',
          );
          assert.equal(target.usage().byPurpose.attack, total);
        },
      );

      it(`${attack.name} (${norm}): results lie in [0, 1] and inside the ball, and repeat under the seed`, async () => {
        const first = (await run(150)).outcome;
        const second = (await run(150)).outcome;
        for (let n = 0; n < count; n++) {
          const adversarial = first.adversarial.subarray(n * size, (n + 1) * size);
          assert.ok(
            adversarial.every((v) => v >= 0 && v <= 1),
            `image ${n} leaves [0, 1]`,
          );
          assert.ok(
            distance(adversarial, images.subarray(n * size, (n + 1) * size), norm) <= eps + 1e-6,
            `image ${n} leaves the ${norm} ball`,
          );
          if (first.images[n]?.success) assert.ok((first.images[n]?.distance as number) <= eps + 1e-6);
        }
        assert.deepEqual(second.images, first.images);
        assert.deepEqual(second.adversarial, first.adversarial);
      });
    }
  }
});
