import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useBackend } from '../../src/compute/backend.js';
import type { OnnxNetwork } from '../../src/compute/network/network.js';
import { networkLogits } from '../../src/compute/network/run.js';
import { loadEmbeddedMnist, stratifiedSplit, subset, take } from '../../src/data/index.js';
import { OraclePool, TargetOracle } from '../../src/oracle/index.js';
import {
  fidelityMeter,
  jacobianQueriesPerRound,
  obtainSubstitute,
  STRATEGIES,
  type ObtainOptions,
  type SubstituteContext,
} from '../../src/substitutes/index.js';
import { loadTarget, type ResolvedTarget } from '../../src/targets/descriptor.js';
import { buildTarget } from '../../src/targets/zoo.js';
import { openOwnedNetwork } from '../../src/targets/owned-network.js';
import { tempDir } from '../fixtures/files.js';

/** obtainSubstitute for a strategy that trains a network (every one here but pretrained). */
async function obtainTrained(
  ...args: Parameters<typeof obtainSubstitute>
): Promise<{ network: OnnxNetwork; record: Awaited<ReturnType<typeof obtainSubstitute>>['record'] }> {
  const obtained = await obtainSubstitute(...args);
  assert.ok(obtained.network, `${args[0]} returned no network`);
  return { network: obtained.network, record: obtained.record };
}

describe('substitute strategies against a tiny target through the pool', () => {
  const dir = tempDir('transferbench-substitutes-');
  const { train, test } = stratifiedSplit(loadEmbeddedMnist(), 0.2, 0);
  const targetData = take(train, 2000);
  const attacker = subset(
    train,
    Int32Array.from({ length: 4000 }, (_, i) => 2000 + i),
  );
  const evaluation = take(test, 300);
  let pool: OraclePool;
  let target: ResolvedTarget;

  before(async function () {
    this.timeout(120000);
    await useBackend('wasm');
    const built = await buildTarget(
      { name: 'tiny-mlp', architecture: 'mlp', epochs: 2, batchSize: 64, learningRate: 0.002, seed: 1 },
      { train: targetData, test: evaluation },
      'mnist-embedded',
      dir,
    );
    target = loadTarget(built.descriptorPath);
    pool = new OraclePool({ workers: 1 });
  });
  after(async () => {
    await pool.close();
  });

  const setup = (options: {
    budget: number;
    mode?: 'probabilities' | 'top-k' | 'label';
    architecture?: string;
    seed?: number;
    whiteBox?: boolean;
    epochs?: number;
  }) => {
    const oracle = new TargetOracle(pool, target, { mode: options.mode ?? 'probabilities', budget: options.budget });
    const context: SubstituteContext = {
      oracle,
      architecture: options.architecture ?? 'mlp',
      seed: options.seed ?? 0,
      budget: options.budget,
      training: { epochs: options.epochs ?? 3, batchSize: 64, learningRate: 0.002 },
      attackerImages: attacker.images,
      attackerLabels: attacker.labels,
      imageShape: [28, 28, 1],
      classes: 10,
      measureFidelity: fidelityMeter(oracle, evaluation.images, [28, 28, 1]),
      ...(options.whiteBox
        ? { whiteBoxModel: join(dir, 'tiny-mlp', 'target.json'), openNetwork: openOwnedNetwork }
        : {}),
    };
    const obtain: ObtainOptions = {
      cacheDir: join(dir, 'cache'),
      useCache: true,
      targetFingerprint: target.descriptor.sha256,
      oracleMode: options.mode ?? 'probabilities',
      dataFingerprint: 'mnist-embedded/seed0/4000',
      evaluationImages: evaluation.images,
      evaluationLabels: evaluation.labels,
    };
    return { oracle, context, obtain };
  };

  it('marks the white-box strategy, and only it, as a reference', () => {
    assert.deepEqual(
      STRATEGIES.values()
        .filter((s) => s.reference)
        .map((s) => s.name),
      ['white-box'],
    );
  });

  it('ground truth spends no queries and learns the digits', async () => {
    const { context, obtain } = setup({ budget: 0 });
    const { record } = await obtainTrained('ground-truth', { trainImages: 2000 }, context, obtain);
    assert.equal(record.queriesSpent, 0);
    assert.ok(record.cleanAccuracy > 0.85, `accuracy ${record.cleanAccuracy}`);
    assert.equal(record.evaluationQueries, 300, 'fidelity costs evaluation queries, counted apart');
  });

  it('static distillation spends its budget once and reaches high agreement', async () => {
    const { context, obtain, oracle } = setup({ budget: 2000 });
    const { record } = await obtainTrained('static-distillation', {}, context, obtain);
    assert.equal(record.queriesSpent, 2000);
    assert.equal(oracle.usage().byPurpose['substitute-training'], 2000);
    assert.ok(record.fidelity > 0.85, `fidelity ${record.fidelity}`);
  });

  it('static distillation from a label-only oracle fits hard labels', async () => {
    const { context, obtain } = setup({ budget: 1000, mode: 'label' });
    const { record } = await obtainTrained('static-distillation', {}, context, obtain);
    assert.equal(record.queriesSpent, 1000);
    assert.ok(record.fidelity > 0.75, `fidelity ${record.fidelity}`);
  });

  it(
    'dynamic distillation spends queries in every round and agrees ' + 'more near the attack points as rounds go',
    async () => {
      const { context, obtain } = setup({ budget: 1200, epochs: 2 });
      const { record } = await obtainTrained(
        'dynamic-distillation',
        { rounds: 3, attack: 'fgsm', eps: 0.2 },
        context,
        obtain,
      );
      assert.deepEqual(
        record.rounds.map((r) => r.queries),
        [300, 600, 900, 1200],
      );
      assert.equal(record.queriesSpent, 1200);
      const agreements = record.rounds.slice(1).map((r) => r.attackPointAgreement as number);
      assert.ok(
        (agreements[agreements.length - 1] as number) > (agreements[0] as number),
        `agreement on attack points by round: ${agreements.join(', ')}`,
      );
    },
  );

  it(
    "dynamic distillation with AdvGAN placing the queries (AdvGAN's " + 'black-box dynamic mode) counts every query',
    async () => {
      const { context, obtain, oracle } = setup({ budget: 300, epochs: 1 });
      const { record } = await obtainTrained(
        'dynamic-distillation',
        { rounds: 2, attack: 'advgan', eps: 0.3 },
        context,
        obtain,
      );
      assert.deepEqual(
        record.rounds.map((r) => r.queries),
        [100, 200, 300],
      );
      assert.equal(oracle.usage().byPurpose['substitute-training'], 300);
    },
  );

  it('the Jacobian strategy spends exactly what its formula says', async () => {
    const plan = { seedCount: 20, rounds: 4, reservoirAfter: 2, reservoir: 15 };
    assert.deepEqual(jacobianQueriesPerRound(plan), [20, 20, 40, 15]);
    const { context, obtain } = setup({ budget: 1000, mode: 'label', epochs: 2 });
    const { record } = await obtainTrained('jacobian', { ...plan, lambda: 0.1, tau: 2 }, context, obtain);
    assert.equal(record.queriesSpent, 95);
    assert.deepEqual(
      record.rounds.map((r) => r.queries),
      [20, 40, 80, 95],
    );
  });

  it('the Jacobian strategy plans within a budget smaller than its rounds need', async () => {
    const { context, obtain, oracle } = setup({ budget: 50, mode: 'label', epochs: 1 });
    const { record } = await obtainTrained(
      'jacobian',
      { seedCount: 20, rounds: 4, reservoirAfter: 2, reservoir: 15 },
      context,
      obtain,
    );
    // rounds of 20, 20, 40, 15 queries: the third would pass 50, so it and the fourth are dropped
    assert.deepEqual(
      record.rounds.map((r) => r.queries),
      [20, 40],
    );
    assert.equal(oracle.usage().byPurpose['substitute-training'], 40);
  });

  it('the white-box reference is the target itself: agreement 1, no queries', async () => {
    const { context, obtain } = setup({ budget: 0, whiteBox: true });
    const { record } = await obtainTrained('white-box', {}, context, obtain);
    assert.equal(record.reference, true);
    assert.equal(record.queriesSpent, 0);
    assert.equal(record.fidelity, 1);
  });

  it('the white-box reference is refused for a foreign target', async () => {
    const { context, obtain } = setup({ budget: 0 });
    await assert.rejects(
      obtainSubstitute('white-box', {}, context, obtain),
      /white-box: target tiny-mlp is not a zoo target built by transferbench/,
    );
  });

  it('reuses a cached substitute for the same configuration and retrains when anything changes', async () => {
    const first = setup({ budget: 500, seed: 7 });
    const a = await obtainTrained('static-distillation', {}, first.context, first.obtain);
    const again = setup({ budget: 500, seed: 7 });
    const b = await obtainTrained('static-distillation', {}, again.context, again.obtain);
    assert.equal(b.record.fromCache, true);
    assert.equal(again.oracle.usage().byPurpose['substitute-training'], 0, 'a cache hit spends no queries');
    assert.equal(b.record.queriesSpent, 500, 'but records what the substitute cost');
    const probe = new Float32Array(784).fill(1);
    assert.deepEqual(await networkLogits(a.network, probe), await networkLogits(b.network, probe));
    assert.equal(b.record.onnxSha256, a.record.onnxSha256, 'the cached model.onnx is the one trained');
    for (const change of [
      { budget: 400, seed: 7 },
      { budget: 500, seed: 8 },
      { budget: 500, seed: 7, mode: 'label' as const },
    ]) {
      const other = setup(change);
      const c = await obtainTrained('static-distillation', {}, other.context, other.obtain);
      assert.equal(c.record.fromCache, false, JSON.stringify(change));
    }
  });
});
