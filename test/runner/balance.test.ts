import assert from 'node:assert/strict';
import { forwardCost, groupCosts, shardBalance, type CostModel } from '../../src/runner/balance.js';
import { assignGroups, expandGrid, shardCells } from '../../src/runner/grid.js';
import { parseSuite } from '../../src/runner/suite.js';
import { useBackend } from '../../src/compute/backend.js';

/** Substitutes of very different training cost on two targets: round robin piles them up. */
const skewed = parseSuite(
  {
    name: 'skewed',
    dataset: 'mnist-embedded',
    seed: 0,
    evaluationSize: 100,
    targets: ['mlp', 'model-c'],
    oracle: { mode: 'probabilities' },
    substitutes: [
      { strategy: 'white-box', architectures: ['mlp'], budgets: [0] },
      { strategy: 'static-distillation', architectures: ['cnn-small'], budgets: [500, 8000] },
    ],
    attacks: [
      { name: 'fgsm', eps: [0.1] },
      { name: 'bim', eps: [0.3] },
    ],
    labelSources: ['true'],
  },
  'skewed',
);

describe('shard balance', () => {
  before(async () => {
    await useBackend('cpu');
  });

  it('costs a network by its multiply-adds', () => {
    assert.equal(forwardCost('softmax'), 784 * 10);
    assert.equal(forwardCost('mlp'), 784 * 256 + 256 * 256 + 256 * 10);
    assert.ok(forwardCost('cnn-small') > 5 * forwardCost('mlp'), 'convolutions count once per output position');
  });

  it('predicts more work for more training images and more attack steps', () => {
    const model: CostModel = { forward: () => 1, targetArchitecture: () => undefined };
    const cells = expandGrid(skewed);
    const costs = groupCosts(skewed, cells, model);
    const [whiteBox, small, large] = [...costs.values()];
    // white-box: no training; fgsm 1 step + bim at 0.3 (round(min(80.5, 95.6)) = 81 steps), x3 passes, + 2 target
    // passes, per image.
    assert.equal(whiteBox, 100 * (1 * 3 + 2 + (81 * 3 + 2)));
    assert.equal((large ?? 0) - (small ?? 0), (8000 - 500) * 5 * 3, 'the budget x 5 default epochs x 3 passes');
  });

  it('deals whole groups by cost, deterministically, over every cell once, and evens the shards out', () => {
    const cells = expandGrid(skewed);
    const costs = groupCosts(skewed, cells, { forward: forwardCost, targetArchitecture: (t) => t });
    const groups = [...new Set(cells.map((c) => c.group))];
    assert.deepEqual(assignGroups(groups, 3, costs), assignGroups(groups, 3, costs));
    const shards = [1, 2, 3].map((k) => shardCells(cells, { k, n: 3, costs }));
    assert.deepEqual(
      shards
        .flat()
        .map((c) => c.id)
        .sort(),
      cells.map((c) => c.id).sort(),
    );
    for (const shard of shards)
      for (const c of shard)
        assert.equal(shard.filter((d) => d.group === c.group).length, cells.filter((d) => d.group === c.group).length);
    const before = shardBalance(cells, costs, 3, false);
    const after = shardBalance(cells, costs, 3, true);
    assert.ok(before.maxOverMean > 1.2, `round robin ${before.maxOverMean}`);
    assert.ok(after.maxOverMean < before.maxOverMean, `${after.maxOverMean} < ${before.maxOverMean}`);
    assert.equal(
      after.work.reduce((s, w) => s + w, 0),
      before.work.reduce((s, w) => s + w, 0),
    );
  });
});
