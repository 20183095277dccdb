import assert from 'node:assert/strict';
import { runQueryAttack, type QueryRunOutcome } from '../../src/query-attacks/index.js';
import type { Norm } from '../../src/attacks/types.js';
import type { OracleMode } from '../../src/oracle/index.js';
import { useLinearTarget, whiteBoxFgsmSuccess } from './fixtures.js';

describe('query attacks: known answers on a linear softmax target', () => {
  const t = useLinearTarget(60, 33);
  const { images, ids, size, shape, model } = t;
  const count = ids.length;
  const run = (
    attack: string,
    eps: number,
    norm: Norm,
    budget: number,
    mode: OracleMode = 'probabilities',
    n = count,
  ) =>
    runQueryAttack({
      attack,
      oracle: t.target(mode).withImageBudget(budget),
      images: images.subarray(0, n * size),
      labels: t.labels.subarray(0, n),
      ids: ids.slice(0, n),
      eps,
      norm,
      seed: 3,
    });
  const within = (outcome: QueryRunOutcome, budget: number) =>
    outcome.images.filter((i) => i.queriesToSuccess !== null && i.queriesToSuccess <= budget).length;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

  it("SimBA-pixel's success rises with queries", async () => {
    const outcome = await run('simba-pixel', 0.05, 'linf', 200);
    const curve = [3, 10, 30, 100].map((b) => within(outcome, b));
    for (let k = 1; k < curve.length; k++)
      assert.ok(
        (curve[k] as number) > (curve[k - 1] as number),
        `success at budgets 3, 10, 30, 100: ${curve.join(', ')}`,
      );
  });

  it(
    'one run at the largest budget gives exactly the success of a ' +
      'run at a smaller one (the attacks do not depend on their budget)',
    async () => {
      for (const [attack, norm, mode] of [
        ['simba-pixel', 'linf', 'probabilities'],
        ['square-linf', 'linf', 'probabilities'],
        ['hop-skip-jump', 'l2', 'label'],
      ] as const) {
        const eps = norm === 'linf' ? 0.05 : 0.5;
        const large = await run(attack, eps, norm, 400, mode);
        const small = await run(attack, eps, norm, 120, mode);
        small.images.forEach((image, n) => {
          const reference = large.images[n];
          const expected =
            reference?.queriesToSuccess !== null && (reference?.queriesToSuccess as number) <= 120
              ? reference?.queriesToSuccess
              : null;
          assert.equal(image.queriesToSuccess, expected, `${attack}, image ${n}`);
        });
      }
    },
  );

  for (const norm of ['linf', 'l2'] as const) {
    it(
      `Square (${norm}) reaches near-certain success within its budget ` + `at the eps where white-box FGSM does`,
      async () => {
        const grid = norm === 'linf' ? [0.02, 0.05, 0.1, 0.2, 0.3] : [0.2, 0.5, 1, 2];
        let eps = grid[grid.length - 1] as number;
        for (const e of grid) {
          if ((await whiteBoxFgsmSuccess(model, shape, images, t.labels, e, norm)) >= 0.95 * count) {
            eps = e;
            break;
          }
        }
        const fgsm = await whiteBoxFgsmSuccess(model, shape, images, t.labels, eps, norm);
        assert.ok(fgsm >= 0.95 * count, `FGSM reaches 95% somewhere on the grid (${fgsm}/${count} at ${eps})`);
        const square = await run(norm === 'linf' ? 'square-linf' : 'square-l2', eps, norm, 1000);
        assert.ok(
          within(square, 1000) >= 0.95 * count,
          `Square ${within(square, 1000)}/${count} vs FGSM ${fgsm}/${count} at eps ${eps}`,
        );
      },
    );
  }

  for (const norm of ['l2', 'linf'] as const) {
    it(`HopSkipJump's perturbation norm (${norm}) falls as queries rise`, async () => {
      // An eps no point reaches: every image runs to its budget and reports its closest adversarial point.
      const medians: number[] = [];
      for (const budget of [100, 300, 900]) {
        const outcome = await run('hop-skip-jump', 1e-9, norm, budget, 'label', 16);
        assert.ok(outcome.images.every((i) => !i.success && i.stop === 'budget'));
        medians.push(median(outcome.images.map((i) => i.distance)));
      }
      for (let k = 1; k < medians.length; k++)
        assert.ok(
          (medians[k] as number) < (medians[k - 1] as number),
          `median ${norm} distance at 100, 300, 900 queries: ${medians.map((m) => m.toFixed(4)).join(', ')}`,
        );
    });
  }
});
