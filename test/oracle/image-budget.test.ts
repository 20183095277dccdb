import assert from 'node:assert/strict';
import { Random } from '../../src/common/random.js';
import { OraclePool, TargetOracle } from '../../src/oracle/index.js';
import { loadTarget } from '../../src/targets/descriptor.js';
import { tempDir } from '../fixtures/files.js';
import { linearOnnxTarget, softmax, uniformImages } from './fixtures.js';

describe('oracle per-image budget (attack queries)', () => {
  const dir = tempDir('transferbench-image-budget-');
  const model = linearOnnxTarget(dir, {
    name: 'linear',
    layout: 'NHWC',
    inputName: 'input',
    outputName: 'logits',
    h: 4,
    w: 4,
    c: 1,
    classes: 3,
  });
  const bad = linearOnnxTarget(dir, {
    name: 'bad',
    layout: 'NHWC',
    inputName: 'input',
    outputName: 'logits',
    h: 4,
    w: 4,
    c: 1,
    classes: 3,
    descriptor: { inputName: 'wrong' },
  });
  let pool: OraclePool;
  before(() => {
    pool = new OraclePool({ workers: 2 });
  });
  after(async () => {
    await pool.close();
  });

  it(
    'never charges an image past its budget under many concurrent ' +
      'requests, and charges exactly the rows it answered',
    async () => {
      for (let trial = 0; trial < 4; trial++) {
        const random = new Random(40 + trial);
        const budget = 5 + random.int(20);
        const target = new TargetOracle(pool, loadTarget(model.descriptorPath), { mode: 'probabilities' });
        const oracle = target.withImageBudget(budget);
        const requests = Array.from({ length: 30 }, (_, r) => {
          const ids = Array.from({ length: 1 + random.int(40) }, () => random.int(12));
          return { ids, images: uniformImages(ids.length, 16, 1000 * trial + r) };
        });
        const answers = await Promise.all(requests.map((q) => oracle.query(q.images, q.ids)));
        const tally = new Map<number, number>();
        answers.forEach((a, r) => {
          const { ids, images } = requests[r] as (typeof requests)[number];
          assert.equal(a.answered.length + a.refused.length, ids.length);
          assert.equal(a.answer.count, a.answered.length);
          const expected = softmax(model.logits(images, ids.length), 3);
          a.answered.forEach((row, j) => {
            tally.set(ids[row] as number, (tally.get(ids[row] as number) ?? 0) + 1);
            for (let k = 0; k < 3; k++)
              assert.ok(
                Math.abs((a.answer.probabilities?.[j * 3 + k] as number) - (expected[row * 3 + k] as number)) < 1e-5,
              );
          });
          // A refused row's image was at its budget when the request was checked: no later row of that id in the same
          // request was answered.
          a.refused.forEach((row) =>
            assert.ok(![...a.answered].some((other) => other > row && ids[other] === ids[row])),
          );
        });
        const asked = new Map<number, number>();
        requests.forEach((q) => q.ids.forEach((id) => asked.set(id, (asked.get(id) ?? 0) + 1)));
        let total = 0;
        for (let id = 0; id < 12; id++) {
          const charged = oracle.spent(id);
          assert.ok(charged <= budget, `image ${id}: ${charged} > ${budget}`);
          assert.equal(charged, tally.get(id) ?? 0, `image ${id}: the oracle's count equals the answered rows`);
          assert.equal(
            charged,
            Math.min(budget, asked.get(id) ?? 0),
            `image ${id}: refused only what would cross the budget`,
          );
          total += charged;
        }
        assert.equal(target.usage().byPurpose.attack, total);
        assert.equal(target.usage().byPurpose['substitute-training'], 0);
      }
    },
  );

  it('refuses exactly the row that would cross, in request order, and nothing before it', async () => {
    const oracle = new TargetOracle(pool, loadTarget(model.descriptorPath), { mode: 'label' }).withImageBudget(3);
    const first = await oracle.query(uniformImages(2, 16, 1), [7, 7]);
    assert.deepEqual([...first.answered], [0, 1]);
    const second = await oracle.query(uniformImages(4, 16, 2), [7, 8, 7, 7]);
    assert.deepEqual([...second.answered], [0, 1]);
    assert.deepEqual([...second.refused], [2, 3]);
    assert.equal(oracle.spent(7), 3);
    assert.equal(oracle.spent(8), 1);
  });

  it("keeps each view's counts apart, so every attack run gets its full budget", async () => {
    const target = new TargetOracle(pool, loadTarget(model.descriptorPath), { mode: 'label' });
    const a = target.withImageBudget(2);
    const b = target.withImageBudget(2);
    await a.query(uniformImages(2, 16, 3), [0, 0]);
    const again = await b.query(uniformImages(2, 16, 3), [0, 0]);
    assert.equal(again.answered.length, 2);
    assert.equal(target.usage().byPurpose.attack, 4);
  });

  it('charges nothing for a request that fails', async () => {
    const oracle = new TargetOracle(pool, loadTarget(bad.descriptorPath), { mode: 'label' }).withImageBudget(5);
    await assert.rejects(oracle.query(uniformImages(3, 16, 4), [1, 1, 2]), /input "wrong" not found/);
    assert.equal(oracle.spent(1), 0);
    assert.equal(oracle.spent(2), 0);
  });

  it('refuses attack queries outside a per-image budget, and malformed requests, naming what is allowed', async () => {
    const target = new TargetOracle(pool, loadTarget(model.descriptorPath), { mode: 'label' });
    await assert.rejects(
      target.query(uniformImages(1, 16, 5), 'attack'),
      /query purpose: got "attack", expected .*withImageBudget/,
    );
    assert.throws(() => target.withImageBudget(0), /per-image query budget: got 0, expected a positive integer/);
    await assert.rejects(
      target.withImageBudget(3).query(uniformImages(2, 16, 5), [1]),
      /attack query: got "32 values for 1 ids", expected 16 values \(one 4x4x1 image\) per id/,
    );
  });
});
