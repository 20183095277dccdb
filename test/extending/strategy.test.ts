/**
 * Worked example (docs/extending.md): adding a substitute strategy. Margin sampling (active
 * learning, as ActiveThief, Pal et al. 1905.09165, places its queries): a quarter of the budget on
 * the first attacker images, a substitute fitted to the answers, then the rest of the budget on
 * the images that substitute is least sure of (smallest gap between its two top logits), and a
 * refit on everything. In the tree it would be src/substitutes/margin-sampling.ts plus one line in
 * src/substitutes/registry.ts.
 */
import assert from 'node:assert/strict';
import { badOption } from '../../src/common/errors.js';
import { networkLogits } from '../../src/compute/network/run.js';
import { TargetOracle } from '../../src/oracle/index.js';
import {
  fidelityMeter,
  obtainSubstitute,
  resolveStrategyParams,
  STRATEGIES,
  type SubstituteContext,
  type SubstituteStrategy,
} from '../../src/substitutes/index.js';
import { attackerSlice, fit, newSubstitute, targetsFromAnswer } from '../../src/substitutes/fit.js';
import { loadTarget } from '../../src/targets/descriptor.js';
import { tempDir } from '../fixtures/files.js';
import { uniformImages } from '../oracle/fixtures.js';
import { useLinearTarget } from '../query-attacks/fixtures.js';

const marginSampling: SubstituteStrategy = {
  name: 'margin-sampling',
  description: 'active learning: a seed quarter of the budget, then the images the substitute is least sure of',
  reference: false,
  parameters: [
    {
      name: 'seedShare',
      range: { type: 'number', minimum: 0, maximum: 1 },
      default: 0.25,
      description: 'share of the budget on the seed',
    },
  ],
  train: async (context, params) => {
    const pool = context.attackerLabels.length;
    const budget = Math.min(context.budget, pool);
    const seedCount = Math.max(1, Math.floor(budget * params.number('seedShare')));
    if (budget <= seedCount)
      throw badOption('margin-sampling: budget', context.budget, `more than ${seedCount} queries`);
    const size = context.imageShape[0] * context.imageShape[1] * context.imageShape[2];
    const seed = attackerSlice(context, 0, seedCount);
    const seedAnswer = await context.oracle.query(seed, 'substitute-training');
    let network = await fit(await newSubstitute(context), context, seed, targetsFromAnswer(seedAnswer), context.seed);
    const rest = attackerSlice(context, seedCount, pool - seedCount);
    const logits = await networkLogits(network, rest);
    const k = context.classes;
    const margins = Array.from({ length: pool - seedCount }, (_, i) => {
      const row = [...logits.subarray(i * k, (i + 1) * k)].sort((a, b) => b - a);
      return { i, margin: (row[0] as number) - (row[1] as number) };
    }).sort((a, b) => a.margin - b.margin || a.i - b.i);
    const chosen = margins.slice(0, budget - seedCount);
    const picked = new Float32Array(chosen.length * size);
    chosen.forEach(({ i }, j) => picked.set(rest.subarray(i * size, (i + 1) * size), j * size));
    const answer = await context.oracle.query(picked, 'substitute-training');
    const images = new Float32Array(seed.length + picked.length);
    images.set(seed);
    images.set(picked, seed.length);
    const first = targetsFromAnswer(seedAnswer) as Float32Array;
    const second = targetsFromAnswer(answer) as Float32Array;
    const targets = new Float32Array(first.length + second.length);
    targets.set(first);
    targets.set(second, first.length);
    network = await fit(network, context, images, targets, context.seed + 1);
    return { network, rounds: [{ round: 0, queries: budget, fidelity: await context.measureFidelity(network) }] };
  },
};

describe('extending: a substitute strategy (margin sampling)', () => {
  const t = useLinearTarget(4, 3);
  const attacker = uniformImages(200, 64, 11);
  const held = uniformImages(50, 64, 12);
  before(() => STRATEGIES.add(marginSampling.name, marginSampling));
  after(() => STRATEGIES.remove(marginSampling.name));

  it('spends exactly its budget through the oracle, and its substitute agrees with the target', async () => {
    const oracle = new TargetOracle(t.pool, loadTarget(t.fixture.descriptorPath), {
      mode: 'probabilities',
      budget: 80,
    });
    const context: SubstituteContext = {
      oracle,
      architecture: 'mlp',
      seed: 0,
      budget: 80,
      training: { epochs: 20, batchSize: 16, learningRate: 3e-3 },
      attackerImages: attacker,
      attackerLabels: new Int32Array(200),
      imageShape: t.shape,
      classes: t.classes,
      measureFidelity: fidelityMeter(oracle, held, t.shape),
    };
    const obtained = await obtainSubstitute('margin-sampling', {}, context, {
      cacheDir: tempDir('transferbench-strategy-'),
      useCache: false,
      targetFingerprint: 'linear',
      oracleMode: 'probabilities',
      dataFingerprint: 'uniform/200',
      evaluationImages: held,
      evaluationLabels: new Int32Array(50),
    });
    assert.equal(oracle.usage().byPurpose['substitute-training'], 80, 'the oracle charged 20 + 60 queries');
    assert.equal(obtained.record.queriesSpent, 80);
    assert.ok(obtained.record.fidelity > 0.5, `fidelity ${obtained.record.fidelity} on 4 classes`);
  });

  it('declares its parameters once: a misspelt one is refused, naming the allowed ones', () => {
    assert.throws(
      () => resolveStrategyParams(STRATEGIES.get('margin-sampling'), { seedshare: 0.5 }),
      new RegExp(
        'substitute strategy margin-sampling: parameter "seedshare": got 0.5, ' +
          'expected one of the parameters it takes: seedShare',
      ),
    );
  });
});
