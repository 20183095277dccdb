import { POSITIVE_INTEGER } from '../../src/common/params.js';
/**
 * Worked example (docs/extending.md): adding a query attack. Random vertex search: each query
 * is a fresh random corner of the L-inf ball (every pixel +-eps), kept if it lowers the margin.
 * A sanity baseline any score-based attack should beat; in the tree it would be
 * src/query-attacks/random-vertex.ts plus one line in src/query-attacks/registry.ts.
 */
import assert from 'node:assert/strict';
import { QUERY_ATTACKS, runQueryAttack, type QueryAttack } from '../../src/query-attacks/index.js';
import { numberParam } from '../../src/query-attacks/types.js';
import { useLinearTarget } from '../query-attacks/fixtures.js';

const randomVertex: QueryAttack = {
  name: 'random-vertex',
  kind: 'score-based',
  description: 'random vertex search: a random corner of the eps-ball per query, the lowest margin kept (a baseline)',
  norms: ['linf'],
  parameters: [{ name: 'batch', range: POSITIVE_INTEGER, description: 'corners queried at once', default: () => 4 }],
  attack: async (task) => {
    const batch = numberParam(task.params, 'batch');
    let best = Number.POSITIVE_INFINITY;
    // The run stops the image (never returns from query) on success or when its budget is spent.
    for (;;) {
      const rows = new Float32Array(batch * task.clean.length);
      for (let i = 0; i < rows.length; i++) {
        const pixel = task.clean[i % task.clean.length] as number;
        rows[i] = Math.min(1, Math.max(0, pixel + (task.random.next() < 0.5 ? -task.eps : task.eps)));
      }
      const answers = await task.query(rows, batch);
      answers.forEach((a, k) => {
        if (a.margin < best) {
          best = a.margin;
          task.keep(rows.subarray(k * task.clean.length, (k + 1) * task.clean.length));
        }
      });
    }
  },
};

describe('extending: a query attack (random vertex search)', () => {
  const t = useLinearTarget(12, 21);
  before(() => QUERY_ATTACKS.add(randomVertex.name, randomVertex));
  after(() => QUERY_ATTACKS.remove(randomVertex.name));

  it(
    'runs under the oracle: its tally is what the oracle charged, within ' +
      'the budget, and a success stops the image',
    async () => {
      const oracle = t.target('probabilities').withImageBudget(40);
      const outcome = await runQueryAttack({
        attack: 'random-vertex',
        oracle,
        images: t.images,
        labels: t.labels,
        ids: t.ids,
        eps: 0.3,
        norm: 'linf',
        seed: 5,
      });
      for (const image of outcome.images) {
        assert.equal(image.tally, image.queries, `image ${image.id}: the attack's count is the oracle's`);
        assert.ok(image.queries <= 40, `image ${image.id}: ${image.queries} queries within the budget of 40`);
        if (image.success) assert.ok((image.queriesToSuccess as number) <= image.queries);
        else assert.equal(image.queries, 40, `image ${image.id}: spent its budget without success`);
      }
      assert.ok(
        outcome.images.some((i) => i.success),
        'a corner at eps 0.3 fools the linear target on some images',
      );
      assert.equal(outcome.params.batch, 4);
    },
  );
});
