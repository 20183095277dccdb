import assert from 'node:assert/strict';
import { initializerValues, networkHash, type OnnxNetwork } from '../../src/compute/network/network.js';
import { networkSurrogate } from '../../src/compute/network/run.js';
import {
  averageWeights,
  meanLogitsNetwork,
  recomputeBatchStatistics,
  snapshotNetworks,
} from '../../src/compute/network/snapshots.js';
import type { FeatureTaps, LossRequest, Surrogate } from '../../src/compute/surrogate.js';
import { craftAdversarial } from '../../src/attacks/index.js';
import { TargetOracle } from '../../src/oracle/index.js';
import {
  fidelityMeter,
  obtainSubstitute,
  resolveStrategyParams,
  STRATEGIES,
  type StrategyParams,
  substituteSurrogate,
  type SubstituteContext,
} from '../../src/substitutes/index.js';
import { collectVicinity } from '../../src/substitutes/weight-vicinity.js';
import { loadTarget } from '../../src/targets/descriptor.js';
import { openOwnedNetwork } from '../../src/targets/owned-network.js';
import { tempDir } from '../fixtures/files.js';
import { uniformImages } from '../oracle/fixtures.js';
import { useLinearTarget } from '../query-attacks/fixtures.js';

/** The trainable weights of a network, concatenated: what an SGD step moves. */
function weightsOf(network: OnnxNetwork): Float32Array {
  const parts = network.trainable.map((name) => initializerValues(network.graph, name).values);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

describe('lgv and swa substitute strategies', () => {
  const t = useLinearTarget(4, 3);
  const attacker = uniformImages(96, 64, 21);
  const held = uniformImages(24, 64, 22);
  const truth = Int32Array.from({ length: 96 }, (_, i) => i % 4);
  // Few epochs of a small MLP on 64 8x8 images: the whole file runs in seconds.
  const FAST: StrategyParams = { trainImages: 64, extraEpochs: 2, snapshotsPerEpoch: 2, sgdLearningRate: 0.05 };

  const setup = (options: { budget: number; architecture?: string }) => {
    const oracle = new TargetOracle(t.pool, loadTarget(t.fixture.descriptorPath), {
      mode: 'probabilities',
      budget: options.budget,
    });
    const context: SubstituteContext = {
      oracle,
      architecture: options.architecture ?? 'mlp',
      seed: 3,
      budget: options.budget,
      training: { epochs: 2, batchSize: 16, learningRate: 3e-3 },
      attackerImages: attacker,
      attackerLabels: truth,
      imageShape: t.shape,
      classes: t.classes,
      measureFidelity: fidelityMeter(oracle, held, t.shape),
      openNetwork: openOwnedNetwork,
    };
    return { oracle, context };
  };
  const obtain = (strategy: string, params: StrategyParams, context: SubstituteContext) =>
    obtainSubstitute(strategy, params, context, {
      cacheDir: tempDir('transferbench-lgv-'),
      useCache: false,
      targetFingerprint: 'linear',
      oracleMode: 'probabilities',
      dataFingerprint: 'uniform/96',
      evaluationImages: held,
      evaluationLabels: new Int32Array(24),
    });
  const vicinity = (params: StrategyParams, context: SubstituteContext) =>
    collectVicinity('lgv', context, resolveStrategyParams(STRATEGIES.get('lgv'), params));

  it('collects extraEpochs x snapshotsPerEpoch snapshots, each away from the base and from the others', async () => {
    const { context } = setup({ budget: 0 });
    const { base, snapshots } = await vicinity(FAST, context);
    assert.equal(snapshots.length, 4);
    const hashes = new Set([base, ...snapshots].map(networkHash));
    assert.equal(hashes.size, 5, 'the base and four distinct snapshots');
    for (const s of snapshots) assert.notDeepEqual(weightsOf(s), weightsOf(base));
  });

  it('with learning rate 0 every snapshot is the base, and the lgv surrogate has the base gradient', async () => {
    const { context } = setup({ budget: 0 });
    const { base, snapshots } = await vicinity({ ...FAST, extraEpochs: 1, sgdLearningRate: 0 }, context);
    assert.equal(snapshots.length, 2);
    for (const s of snapshots) assert.equal(networkHash(s), networkHash(base));
    const labels = Int32Array.from({ length: 24 }, (_, i) => i % 4);
    const [one, all] = [
      await networkSurrogate(base, 'base'),
      await networkSurrogate(meanLogitsNetwork(snapshots, 'lgv'), 'lgv'),
    ];
    try {
      const a = await one.lossGradient(held, labels, { loss: 'cross-entropy' });
      const b = await all.lossGradient(held, labels, { loss: 'cross-entropy' });
      assert.deepEqual(b.gradient, a.gradient);
      assert.deepEqual(b.logits, a.logits);
    } finally {
      await one.dispose();
      await all.dispose();
    }
  });

  it(
    'swa of identical snapshots is the snapshot (a network without ' + 'BatchNormalization: nothing to recompute)',
    async () => {
      const { context } = setup({ budget: 0 });
      const { snapshots, images } = await vicinity({ ...FAST, extraEpochs: 1, sgdLearningRate: 0 }, context);
      const averaged = await recomputeBatchStatistics(averageWeights(snapshots), images, 16);
      assert.equal(networkHash(averaged), networkHash(snapshots[0] as OnnxNetwork));
    },
  );

  it('swa on a BatchNorm network (resnet8) recomputes the statistics of the averaged weights', async () => {
    const { context } = setup({ budget: 0, architecture: 'resnet8' });
    const params = resolveStrategyParams(STRATEGIES.get('swa'), { ...FAST, extraEpochs: 1 });
    const result = await STRATEGIES.get('swa').train(context, params);
    const { snapshots, images } = await collectVicinity('swa', context, params);
    const averaged = averageWeights(snapshots);
    assert.ok(result.network);
    assert.equal(networkHash(result.network), networkHash(await recomputeBatchStatistics(averaged, images, 16)));
    assert.notEqual(networkHash(result.network), networkHash(averaged), 'the running statistics were replaced');
  });

  it(
    "attacks step i on snapshot i mod K (the paper's cycle), and what the " + 'loop does not number on their mean',
    async () => {
      const { record, network } = await obtain('lgv', FAST, setup({ budget: 0 }).context);
      assert.ok(network && record.onnxSha256);
      const labels = Int32Array.from({ length: 24 }, (_, i) => i % 4);
      const request: LossRequest = { loss: 'cross-entropy' };
      const cycle = await substituteSurrogate('lgv', FAST, network, 'lgv');
      const mean = await substituteSurrogate('lgv', { ...FAST, combine: 'logits' }, network, 'lgv-logits');
      const members = await Promise.all(snapshotNetworks(network).map((n, k) => networkSurrogate(n, `s${k}`)));
      const whole = await networkSurrogate(network, 'whole');
      try {
        assert.equal(members.length, 4);
        const reference = (await whole.lossGradient(held, labels, request)).gradient;
        for (let step = 0; step < 6; step++) {
          const ours = await cycle.lossGradient(held, labels, { ...request, iteration: step });
          const own = await (members[step % 4] as Surrogate).lossGradient(held, labels, request);
          assert.deepEqual(ours.gradient, own.gradient, `step ${step}`);
          assert.deepEqual(
            (await mean.lossGradient(held, labels, { ...request, iteration: step })).gradient,
            reference,
          );
        }
        assert.deepEqual((await cycle.lossGradient(held, labels, request)).gradient, reference);
        assert.deepEqual(await cycle.logits(held, 24), await whole.logits(held, 24));
      } finally {
        for (const s of [cycle, mean, whole, ...members]) await s.dispose();
      }
    },
  );

  it("taps the snapshots under the base network's layer names: ILPD's pass at step i on snapshot i mod K", async () => {
    const { network } = await obtain('lgv', FAST, setup({ budget: 0 }).context);
    assert.ok(network);
    const labels = Int32Array.from({ length: 24 }, (_, i) => i % 4);
    const cycle = await substituteSurrogate('lgv', FAST, network, 'lgv');
    const members = await Promise.all(snapshotNetworks(network).map((n, k) => networkSurrogate(n, `s${k}`)));
    try {
      const layers = await ((members[0] as Surrogate).taps as FeatureTaps).layers();
      const layer = (layers.find((l) => l.opType === 'Relu') ?? layers[0])?.name as string;
      assert.deepEqual(await cycle.taps?.layers(), layers);
      for (let step = 0; step < 5; step++) {
        const request: LossRequest = { loss: 'cross-entropy', iteration: step };
        const decay = { layer, gamma: 0.5 };
        const own = ((members[step % 4] as Surrogate).taps as FeatureTaps).decayedLossGradient;
        const ours = await cycle.taps?.decayedLossGradient?.(held, labels, request, decay);
        assert.deepEqual(ours?.gradient, (await own?.(held, labels, request, decay))?.gradient, `step ${step}`);
      }
      const unnumbered = await cycle.taps?.featureGradient(held, labels, layer, { loss: 'cross-entropy' });
      const first = await members[0]?.taps?.featureGradient(held, labels, layer, { loss: 'cross-entropy' });
      assert.deepEqual(unnumbered?.gradient, first?.gradient);
    } finally {
      for (const s of [cycle, ...members]) await s.dispose();
    }
  });

  it('keeps combine out of the cache key: attacking the snapshots another way reuses the cached network', async () => {
    const cacheDir = tempDir('transferbench-lgv-cache-');
    const options = {
      cacheDir,
      useCache: true,
      targetFingerprint: 'linear',
      oracleMode: 'probabilities',
      dataFingerprint: 'uniform/96',
      evaluationImages: held,
      evaluationLabels: new Int32Array(24),
    };
    const first = await obtainSubstitute('lgv', { ...FAST, combine: 'cycle' }, setup({ budget: 0 }).context, options);
    const second = await obtainSubstitute('lgv', { ...FAST, combine: 'logits' }, setup({ budget: 0 }).context, options);
    assert.equal(first.record.fromCache, false);
    assert.equal(second.record.fromCache, true);
    assert.equal(second.record.onnxSha256, first.record.onnxSha256);
  });

  it('the gradient loop numbers its steps for the surrogate', async () => {
    const { network } = await obtain('lgv', FAST, setup({ budget: 0 }).context);
    assert.ok(network);
    const inner = await networkSurrogate(network, 'lgv');
    const seen: (number | undefined)[] = [];
    const spy: Surrogate = {
      name: 'spy',
      imageShape: inner.imageShape,
      classes: inner.classes,
      logits: (images, count) => inner.logits(images, count),
      lossGradient: (images, labels, request) => {
        seen.push(request.iteration);
        return inner.lossGradient(images, labels, request);
      },
      dispose: () => inner.dispose(),
    };
    try {
      await craftAdversarial('mi-fgsm', spy, {
        images: held.slice(0, 4 * 64),
        trueLabels: Int32Array.from([0, 1, 2, 3]),
        ids: [0, 1, 2, 3],
        eps: 0.1,
        labelSource: 'true',
        params: { steps: 3 },
      });
      assert.deepEqual(seen, [0, 1, 2]);
    } finally {
      await spy.dispose();
    }
  });

  it('charges one query per image labelled by the target, once, whatever the base and the epochs fit', async () => {
    const cases: [StrategyParams, number][] = [
      [{ base: 'ground-truth', labels: 'truth' }, 0],
      [{ base: 'ground-truth', labels: 'target' }, 64],
      [{ base: 'static-distillation', labels: 'truth' }, 64],
      [{ base: 'static-distillation', labels: 'target' }, 64],
      [{ base: 'static-distillation', labels: 'target', trainImages: 96 }, 80],
    ];
    for (const [params, queries] of cases) {
      const { context, oracle } = setup({ budget: 80 });
      const { record } = await obtain('lgv', { ...FAST, ...params }, context);
      assert.equal(record.queriesSpent, queries, JSON.stringify(params));
      assert.equal(oracle.usage().byPurpose['substitute-training'], queries, JSON.stringify(params));
      assert.equal(record.rounds[0]?.queries, queries);
    }
  });

  it('fine-tunes a given ONNX surrogate: with learning rate 0 its snapshots are its own weights', async () => {
    const { context } = setup({ budget: 0, architecture: t.fixture.descriptorPath });
    const given = await openOwnedNetwork(t.fixture.descriptorPath, { fresh: false, seed: 0 });
    const { snapshots } = await vicinity({ ...FAST, base: 'given', extraEpochs: 1, sgdLearningRate: 0 }, context);
    for (const s of snapshots) assert.equal(networkHash(s), networkHash(given));
    const moved = await vicinity({ ...FAST, base: 'given', extraEpochs: 1 }, context);
    assert.notEqual(networkHash(moved.snapshots[0] as OnnxNetwork), networkHash(given));
  });

  it('reproduces a seeded run bit for bit, for lgv and for swa', async () => {
    for (const strategy of ['lgv', 'swa']) {
      const runs = [];
      for (let i = 0; i < 2; i++) runs.push((await obtain(strategy, FAST, setup({ budget: 0 }).context)).record);
      assert.equal(runs[0]?.onnxSha256, runs[1]?.onnxSha256, strategy);
      assert.ok(runs[0]?.onnxSha256, strategy);
    }
  });

  it('refuses a bad parameter with one line naming it', async () => {
    const oneLine = (pattern: RegExp) => (e: Error) => pattern.test(e.message) && !e.message.includes('\n');
    assert.throws(
      () => resolveStrategyParams(STRATEGIES.get('lgv'), { snapshotsPerEpoch: 0 }),
      oneLine(/^substitute strategy lgv: snapshotsPerEpoch: got 0, expected an integer >= 1$/),
    );
    assert.throws(
      () => resolveStrategyParams(STRATEGIES.get('swa'), { sgdLearningRate: -0.1 }),
      oneLine(/^substitute strategy swa: sgdLearningRate: got -0.1, expected a number >= 0$/),
    );
    assert.throws(
      () => resolveStrategyParams(STRATEGIES.get('lgv'), { epochs: 3 }),
      oneLine(
        new RegExp(
          '^substitute strategy lgv: parameter "epochs": got \\S+, expected one ' +
            'of the parameters it takes: base, labels, trainImages, extraEpochs',
        ),
      ),
    );
    await assert.rejects(
      obtain('lgv', { ...FAST, snapshotsPerEpoch: 5 }, setup({ budget: 0 }).context),
      oneLine(/^lgv: snapshotsPerEpoch: got 5, expected an integer from 1 to the 4 minibatches of an epoch/),
    );
    const labelling = setup({ budget: 80 });
    await assert.rejects(
      obtain('swa', { ...FAST, labels: 'target', snapshotsPerEpoch: 9 }, labelling.context),
      oneLine(/^swa: snapshotsPerEpoch: got 9, .* \(64 images in batches of 16\)$/),
    );
    assert.equal(labelling.oracle.usage().byPurpose['substitute-training'], 0, 'refused before any query');
    const fresh = setup({ budget: 0, architecture: t.fixture.descriptorPath });
    await assert.rejects(
      obtain(
        'lgv',
        { ...FAST, base: 'given' },
        { ...fresh.context, training: { ...fresh.context.training, init: 'fresh' } },
      ),
      oneLine(/^lgv: base given starts from the ONNX file's own weights; training.init "fresh" would draw new ones/),
    );
    await assert.rejects(
      obtain('lgv', { ...FAST, base: 'given' }, setup({ budget: 0 }).context),
      oneLine(/^lgv: base given needs an architecture that is an ONNX file's descriptor; mlp has no weights/),
    );
    await assert.rejects(
      obtain('swa', { ...FAST, labels: 'target' }, setup({ budget: 0 }).context),
      oneLine(/^swa: labels or base from the target need a budget of at least one query \(the budget is 0\)$/),
    );
  });
});
