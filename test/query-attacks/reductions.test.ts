import assert from 'node:assert/strict';
import { nesEstimate } from '../../src/query-attacks/nes.js';
import { runQueryAttack } from '../../src/query-attacks/index.js';
import { useLinearTarget } from './fixtures.js';

describe('query attacks: reductions to known answers', () => {
  it('NES with one antithetic pair along a fixed direction is the central finite difference along it', () => {
    // L(x) = sum_i c_i x_i^2 + x_0 x_1, probed at x along u.
    const loss = (x: readonly number[]) => 0.5 * x[0]! ** 2 + 2 * x[1]! ** 2 - x[2]! ** 2 + x[0]! * x[1]!;
    const x = [0.3, -0.2, 0.7];
    const u = Float64Array.of(0.6, -0.8, 0.1);
    const sigma = 1e-3;
    const at = (s: number) => loss(x.map((v, i) => v + s * (u[i] as number)));
    const g = nesEstimate([u], [at(sigma)], [at(-sigma)], sigma);
    const central = (at(sigma) - at(-sigma)) / (2 * sigma);
    g.forEach((v, i) => assert.ok(Math.abs(v - central * (u[i] as number)) < 1e-12, `component ${i}`));
    // And the directional derivative it approximates: grad L . u.
    const grad = [x[0]! + x[1]!, 4 * x[1]! + x[0]!, -2 * x[2]!];
    const directional = grad.reduce((sum, gi, i) => sum + gi * (u[i] as number), 0);
    assert.ok(Math.abs(central - directional) < 1e-6, `${central} vs ${directional}`);
  });

  describe('on a linear softmax target', () => {
    const t = useLinearTarget(24, 5);
    // The largest request each sends for one image: a success ends the image within it.
    const batches: Record<string, number> = {
      nes: 50,
      'sign-hunter': 1,
      'bandits-td': 2,
      'zo-sign-sgd': 31,
      parsimonious: 100,
    };
    for (const [attack, batch] of Object.entries(batches)) {
      it(`${attack} fools most images within 400 queries at eps 0.1 and stops querying each once fooled`, async () => {
        const oracle = t.target('probabilities').withImageBudget(400);
        const outcome = await runQueryAttack({
          attack,
          oracle,
          images: t.images,
          labels: t.labels,
          ids: t.ids,
          eps: 0.1,
          norm: 'linf',
          seed: 2,
        });
        const fooled = outcome.images.filter((i) => i.success);
        assert.ok(fooled.length >= 18, `${fooled.length} of 24 fooled`);
        for (const image of fooled)
          assert.ok(
            image.queries - (image.queriesToSuccess as number) < batch,
            `image ${image.id}: ${image.queries} queries`,
          );
      });
    }
  });
});

describe('query attacks: success checks counted or charged apart', () => {
  const t = useLinearTarget(16, 8);
  for (const attack of ['nes', 'bandits-td']) {
    it(`${attack}: with checks apart the same run's queries to success drop by exactly its checks`, async () => {
      const budget = 300;
      const run = async (apart: boolean) => {
        const target = t.target('probabilities');
        const oracle = target.withImageBudget(budget);
        const checkOracle = apart ? target.withImageBudget(budget + 1) : undefined;
        const outcome = await runQueryAttack({
          attack,
          oracle,
          ...(checkOracle ? { checkOracle } : {}),
          images: t.images,
          labels: t.labels,
          ids: t.ids,
          eps: 0.05,
          norm: 'linf',
          seed: 12,
        });
        return { outcome, oracle, checkOracle, target };
      };
      const counted = await run(false);
      const apart = await run(true);
      let compared = 0;
      counted.outcome.images.forEach((image, n) => {
        const other = apart.outcome.images[n] as (typeof apart.outcome.images)[number];
        assert.equal(counted.oracle.spent(image.id), image.tally);
        assert.equal(apart.oracle.spent(image.id), other.tally, 'the budgeted view charged the search rows only');
        assert.equal(apart.checkOracle?.spent(image.id), other.checks, 'and the check view the checks');
        assert.ok(other.checks > 0);
        if (!image.success) return;
        compared++;
        assert.equal(other.success, true, `image ${image.id}: fooled with checks counted, so also with them apart`);
        assert.equal(other.queriesToSuccess, (image.queriesToSuccess as number) - image.checks, `image ${image.id}`);
      });
      assert.ok(compared >= 4, `${compared} images fooled`);
      const total = apart.outcome.images.reduce((s, i) => s + i.tally + i.checks, 0);
      assert.equal(apart.target.usage().byPurpose.attack, total, "the target's ledger holds both");
    });
  }
});
