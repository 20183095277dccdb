import assert from 'node:assert/strict';
import { rowAnswer } from '../../src/query-attacks/answers.js';
import { runQueryAttack } from '../../src/query-attacks/index.js';
import { biasLambda } from '../../src/query-attacks/p-rgf.js';
import type { ImageBudgetOracle } from '../../src/oracle/index.js';
import { linearSurrogate, perturbedLinear, useLinearTarget } from './fixtures.js';

describe('query attack runs', () => {
  const t = useLinearTarget(40, 55);
  const { images, ids, size, shape, model } = t;
  const count = ids.length;
  let labels: Int32Array;
  before(() => {
    labels = t.labels;
  });
  const oracle = (budget: number, mode: 'probabilities' | 'top-k' | 'label' = 'probabilities', topK = 2) =>
    t.target(mode, topK).withImageBudget(budget);

  it(
    'sends every live image in each oracle request: the first request ' + 'of a stream holds one row per image',
    async () => {
      const inner = oracle(30);
      const sizes: number[] = [];
      const spy: ImageBudgetOracle = {
        ...inner,
        perImageBudget: inner.perImageBudget,
        spent: (id) => inner.spent(id),
        query: (rows, rowIds) => {
          sizes.push(rowIds.length);
          return inner.query(rows, rowIds);
        },
      };
      await runQueryAttack({
        attack: 'square-linf',
        oracle: spy,
        images,
        labels,
        ids,
        eps: 0.05,
        norm: 'linf',
        seed: 1,
        streams: 1,
      });
      assert.equal(sizes[0], count);
      assert.ok(
        sizes.every((n, k) => k === 0 || n <= (sizes[k - 1] as number)),
        'requests shrink only as images finish',
      );
    },
  );

  it(
    'starts a hybrid from the transfer example: one that already ' + 'fools the target succeeds at its first query',
    async () => {
      const outcome = await runQueryAttack({
        attack: 'square-linf',
        oracle: oracle(100),
        images,
        labels,
        ids,
        eps: 0.3,
        norm: 'linf',
        seed: 1,
      });
      const starts = outcome.adversarial;
      for (const attack of ['square-linf', 'simba-dct', 'hop-skip-jump']) {
        const mode = attack === 'hop-skip-jump' ? 'label' : 'probabilities';
        const hybrid = await runQueryAttack({
          attack,
          oracle: oracle(100, mode),
          images,
          labels,
          ids,
          eps: 0.3,
          norm: 'linf',
          seed: 2,
          starts,
        });
        outcome.images.forEach((first, n) => {
          if (first.success) assert.equal(hybrid.images[n]?.queriesToSuccess, 1, `${attack}, image ${n}`);
        });
      }
    },
  );

  it('P-RGF needs fewer queries with the target itself as prior than with an unrelated surrogate', async () => {
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const queries = async (surrogateModel: typeof model) => {
      const n = 16;
      const outcome = await runQueryAttack({
        attack: 'p-rgf',
        oracle: oracle(600),
        images: images.subarray(0, n * size),
        labels: labels.subarray(0, n),
        ids: ids.slice(0, n),
        eps: 0.05,
        norm: 'linf',
        seed: 1,
        surrogate: linearSurrogate(surrogateModel, shape),
      });
      return median(outcome.images.map((i) => i.queriesToSuccess ?? 601));
    };
    const good = await queries(model);
    const unrelated = await queries(
      perturbedLinear({ ...model, weights: new Float32Array(model.weights.length) }, 1, 77),
    );
    assert.ok(good < unrelated, `median queries with the exact prior ${good}, with an unrelated one ${unrelated}`);
  });

  it('ends, without queries it cannot use, when eps is below float32 resolution', async () => {
    const outcome = await runQueryAttack({
      attack: 'square-linf',
      oracle: oracle(50),
      images,
      labels,
      ids: ids.slice(),
      eps: 1e-9,
      norm: 'linf',
      seed: 1,
    });
    assert.ok(
      outcome.images.every((i) => !i.success && i.stop === 'gave-up' && i.queries === 1),
      JSON.stringify(outcome.images[0]),
    );
  });

  it('works on top-k answers with what they reveal', async () => {
    const probabilities = await runQueryAttack({
      attack: 'square-linf',
      oracle: oracle(300),
      images,
      labels,
      ids,
      eps: 0.05,
      norm: 'linf',
      seed: 4,
    });
    const topOne = await runQueryAttack({
      attack: 'square-linf',
      oracle: oracle(300, 'top-k', 1),
      images,
      labels,
      ids,
      eps: 0.05,
      norm: 'linf',
      seed: 4,
    });
    const fooled = (o: typeof topOne) => o.images.filter((i) => i.success).length;
    assert.ok(
      fooled(topOne) >= 0.8 * fooled(probabilities),
      `top-1 ${fooled(topOne)} vs probabilities ${fooled(probabilities)}`,
    );
  });

  it(
    'reads margins from top-k answers: the revealed runner-up, 1 ' + '- p_y at k = 1, an upper bound when y is hidden',
    () => {
      const answer = (k: number, values: number[], indices: number[]) => ({
        mode: 'top-k' as const,
        count: 1,
        classes: 4,
        labels: Int32Array.of(indices[0] as number),
        topK: { k, values: Float32Array.from(values), indices: Int32Array.from(indices) },
      });
      assert.ok(Math.abs(rowAnswer(answer(2, [0.6, 0.3], [2, 0]), 0, 2).margin - Math.log(0.6 / 0.3)) < 1e-6);
      assert.ok(Math.abs(rowAnswer(answer(1, [0.8], [2]), 0, 2).margin - Math.log(0.8 / 0.2)) < 1e-6);
      const hidden = rowAnswer(answer(2, [0.5, 0.4], [1, 0]), 0, 3);
      assert.ok(hidden.adversarial && hidden.margin <= Math.log(0.4 / 0.5) + 1e-6);
    },
  );

  it("P-RGF's lambda is 0 for a useless prior, 1 for a near-perfect one, and in (0, 1) between", () => {
    assert.equal(biasLambda(0.01, 784, 50), 0);
    assert.equal(biasLambda(0.99, 784, 50), 1);
    const middle = biasLambda(0.2, 784, 50);
    assert.ok(middle > 0 && middle < 1, String(middle));
  });

  it(
    'refuses a score-based attack on a label-only oracle, a hybrid ' +
      'without a surrogate, and unknown parameters, naming what is ' +
      'allowed',
    async () => {
      await assert.rejects(
        runQueryAttack({
          attack: 'square-linf',
          oracle: oracle(10, 'label'),
          images,
          labels,
          ids,
          eps: 0.1,
          norm: 'linf',
          seed: 1,
        }),
        /square-linf: oracle mode: got "label", expected "probabilities" or "top-k"/,
      );
      await assert.rejects(
        runQueryAttack({ attack: 'p-rgf', oracle: oracle(10), images, labels, ids, eps: 0.1, norm: 'linf', seed: 1 }),
        /p-rgf: surrogate: got "none"/,
      );
      await assert.rejects(
        runQueryAttack({
          attack: 'square-l2',
          oracle: oracle(10),
          images,
          labels,
          ids,
          eps: 0.1,
          norm: 'linf',
          seed: 1,
        }),
        /square-l2: norm: got "linf", expected "l2"/,
      );
      await assert.rejects(
        runQueryAttack({
          attack: 'simba-dct',
          oracle: oracle(10),
          images,
          labels,
          ids,
          eps: 0.1,
          norm: 'l2',
          seed: 1,
          params: { strides: 2 },
        }),
        new RegExp(
          'simba-dct: parameter "strides": got 2, expected one of the parameters ' +
            'it takes: stepSize, lowFrequencies, stride',
        ),
      );
      await assert.rejects(
        runQueryAttack({ attack: 'zoo', oracle: oracle(10), images, labels, ids, eps: 0.1, norm: 'l2', seed: 1 }),
        /unknown query attack "zoo"; known query attacks: square-linf/,
      );
    },
  );
});
