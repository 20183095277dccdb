import assert from 'node:assert/strict';
import { distance, QUERY_ATTACKS, runQueryAttack } from '../../../src/attacks/query/index.js';
import { OraclePool, TargetOracle } from '../../../src/oracle/index.js';
import { loadTarget } from '../../../src/targets/descriptor.js';
import { tempDir } from '../../fixtures/files.js';
import { linearOnnxTarget, uniformImages } from '../../oracle/fixtures.js';
import { linearSurrogate, perturbedLinear } from './fixtures.js';

describe('query attacks: every registered attack through a real oracle', () => {
  const dir = tempDir('transferbench-query-attacks-');
  const shape = [8, 8, 1] as const;
  const size = 64;
  const classes = 4;
  const fixture = linearOnnxTarget(dir, { name: 'linear', layout: 'NHWC', inputName: 'input', outputName: 'logits', h: 8, w: 8, c: 1, classes });
  const surrogate = linearSurrogate(perturbedLinear({ weights: fixture.weights, bias: fixture.bias, classes, size }, 0.3, 9), shape);
  const count = 16;
  const images = uniformImages(count, size, 21);
  const ids = Array.from({ length: count }, (_, i) => 100 + i);
  let pool: OraclePool;
  let labels: Int32Array;
  before(async () => {
    pool = new OraclePool({ workers: 2 });
    labels = (await new TargetOracle(pool, loadTarget(fixture.descriptorPath), { mode: 'label' }).query(images, 'evaluation')).labels;
  });
  after(async () => {
    await pool.close();
  });

  for (const attack of QUERY_ATTACKS.values()) {
    for (const norm of attack.norms) {
      const eps = norm === 'linf' ? 0.08 : 0.6;
      const mode = attack.kind === 'decision-based' ? 'label' : 'probabilities';
      const run = async (budget: number) => {
        const target = new TargetOracle(pool, loadTarget(fixture.descriptorPath), { mode });
        const oracle = target.withImageBudget(budget);
        const outcome = await runQueryAttack({ attack: attack.name, oracle, images, labels, ids, eps, norm, seed: 7, streams: 3, surrogate });
        return { outcome, oracle, target };
      };

      it(`${attack.name} (${norm}, ${mode}): the oracle's count per image never exceeds the budget and equals the attack's tally`, async () => {
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
          if (image.success) assert.ok((image.queriesToSuccess as number) >= 1 && (image.queriesToSuccess as number) <= image.queries);
          else assert.equal(image.queriesToSuccess, null);
          total += image.queries;
        });
        assert.ok(outcome.images.some((image) => image.stop === 'budget' || image.success), 'the budget binds or the attack succeeds');
        assert.equal(target.usage().byPurpose.attack, total);
      });

      it(`${attack.name} (${norm}): results lie in [0, 1] and inside the ball, and repeat under the seed`, async () => {
        const first = (await run(150)).outcome;
        const second = (await run(150)).outcome;
        for (let n = 0; n < count; n++) {
          const adversarial = first.adversarial.subarray(n * size, (n + 1) * size);
          assert.ok(adversarial.every((v) => v >= 0 && v <= 1), `image ${n} leaves [0, 1]`);
          assert.ok(distance(adversarial, images.subarray(n * size, (n + 1) * size), norm) <= eps + 1e-6, `image ${n} leaves the ${norm} ball`);
          if (first.images[n]?.success) assert.ok((first.images[n]?.distance as number) <= eps + 1e-6);
        }
        assert.deepEqual(second.images, first.images);
        assert.deepEqual(second.adversarial, first.adversarial);
      });
    }
  }
});
