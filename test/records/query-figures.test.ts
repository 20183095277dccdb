import assert from 'node:assert/strict';
import { queryFigures } from '../../src/records/query-figures.js';

describe('query figures', () => {
  it('reads mean and median queries over the fooled images and successes per query at a smaller budget', () => {
    // Image 1 was never fooled (charged 10), image 3 only after the budget of 5.
    const f = queryFigures([2, null, 4, 6], [2, 10, 4, 6], 5, 1);
    assert.equal(f.meanQueriesSuccessful?.value, 3);
    assert.equal(f.medianQueriesSuccessful?.value, 3);
    // 2 fooled over 2 + 5 + 4 + 5 queries.
    assert.equal(f.successesPerQuery.value, 0.125);
    for (const e of [f.meanQueriesSuccessful, f.medianQueriesSuccessful, f.successesPerQuery])
      assert.ok(e && e.low <= e.value && e.value <= e.high, JSON.stringify(e));
  });

  it('gives a degenerate interval on identical images, the same intervals under a seed, none without successes', () => {
    const same = queryFigures([7, 7, 7, 7, 7], [7, 7, 7, 7, 7], 10, 3);
    assert.deepEqual(same.meanQueriesSuccessful, { value: 7, low: 7, high: 7 });
    assert.deepEqual(same.successesPerQuery, { value: 0.142857, low: 0.142857, high: 0.142857 });
    const spread = [1, 3, null, 9, 27, null, 5, 2];
    const charged = [1, 3, 30, 9, 27, 30, 5, 2];
    assert.deepEqual(queryFigures(spread, charged, 30, 5), queryFigures(spread, charged, 30, 5));
    const wide = queryFigures(spread, charged, 30, 5).meanQueriesSuccessful as { low: number; high: number };
    assert.ok(wide.high - wide.low > 2, 'spread queries give a wide interval');
    const none = queryFigures([null, null], [4, 4], 4, 1);
    assert.equal(none.meanQueriesSuccessful, null);
    assert.equal(none.medianQueriesSuccessful, null);
    assert.deepEqual(none.successesPerQuery, { value: 0, low: 0, high: 0 });
  });
});
