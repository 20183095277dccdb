import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEmbeddedMnist, stratifiedSplit, take } from '../../src/data/index.js';
import { OraclePool, TargetOracle } from '../../src/oracle/index.js';
import {
  fidelityMeter,
  obtainSubstitute,
  ownedModelLabel,
  type ObtainOptions,
  type SubstituteContext,
} from '../../src/substitutes/index.js';
import { loadTarget } from '../../src/targets/descriptor.js';
import { craftAdversarial } from '../../src/attacks/index.js';
import { openOwnedModel } from '../../src/targets/owned-model.js';
import { tempDir } from '../fixtures/files.js';
import { TORCH_FIXTURES } from '../fixtures/torch-cases.js';

const MNIST_CNN = join(TORCH_FIXTURES, 'mnist-cnn', 'target.json');

describe('pretrained substitute strategy (a PyTorch-exported surrogate the attacker owns)', () => {
  const dir = tempDir('transferbench-pretrained-');
  const evaluation = take(stratifiedSplit(loadEmbeddedMnist(), 0.2, 0).test, 200);
  let pool: OraclePool;
  before(() => {
    pool = new OraclePool({ workers: 1 });
  });
  after(async () => pool.close());

  // The target is the same PyTorch export: a surrogate identical to the target must agree on every image.
  const setup = (params: Record<string, string | number>) => {
    const oracle = new TargetOracle(pool, loadTarget(MNIST_CNN), { mode: 'probabilities', budget: 0 });
    const context: SubstituteContext = {
      oracle,
      architecture: ownedModelLabel(String(params.model)),
      seed: 0,
      budget: 0,
      training: { epochs: 1, batchSize: 64, learningRate: 0.001 },
      attackerImages: evaluation.images,
      attackerLabels: evaluation.labels,
      imageShape: [28, 28, 1],
      classes: 10,
      measureFidelity: fidelityMeter(oracle, evaluation.images, [28, 28, 1]),
      openOwnedModel,
    };
    const options: ObtainOptions = {
      cacheDir: join(dir, 'cache'),
      useCache: true,
      targetFingerprint: 'f'.repeat(64),
      oracleMode: 'probabilities',
      dataFingerprint: 'mnist-embedded/seed0/200',
      evaluationImages: evaluation.images,
      evaluationLabels: evaluation.labels,
    };
    return { oracle, run: () => obtainSubstitute('pretrained', params, context, options) };
  };

  it('opens the model white-box, spends no query, measures fidelity and accuracy, and caches nothing', async () => {
    const { oracle, run } = setup({ model: MNIST_CNN });
    const obtained = await run();
    try {
      assert.ok(obtained.surrogate, 'a surrogate, not a trained network');
      assert.equal(obtained.network, undefined);
      assert.deepEqual(obtained.surrogate.imageShape, [28, 28, 1]);
      assert.equal(obtained.record.queriesSpent, 0);
      assert.equal(oracle.usage().byPurpose['substitute-training'], 0);
      assert.equal(obtained.record.evaluationQueries, 200, 'fidelity costs evaluation queries, counted apart');
      assert.equal(obtained.record.fidelity, 1, 'the target is the same network');
      assert.ok(obtained.record.cleanAccuracy > 0.9, `accuracy ${obtained.record.cleanAccuracy}`);
      assert.equal(obtained.record.architecture, 'mnist-cnn');
      assert.equal(
        existsSync(join(dir, 'cache')) ? readdirSync(join(dir, 'cache')).length : 0,
        0,
        'nothing written to the substitute cache',
      );
    } finally {
      await obtained.surrogate?.dispose();
    }
  });

  it('gives each surrogate its own key for what is fitted on it (its parameters and model sha256)', async () => {
    const copy = join(dir, 'copy');
    mkdirSync(copy, { recursive: true });
    copyFileSync(join(TORCH_FIXTURES, 'mnist-cnn', 'model.onnx'), join(copy, 'model.onnx'));
    copyFileSync(MNIST_CNN, join(copy, 'target.json'));
    const [a, b] = [await setup({ model: MNIST_CNN }).run(), await setup({ model: join(copy, 'target.json') }).run()];
    await a.surrogate?.dispose();
    await b.surrogate?.dispose();
    assert.notEqual(a.record.cacheKey, b.record.cacheKey, 'the path is part of the parameters');
    assert.match(a.record.cacheKey, /^[0-9a-f]{16}$/);
  });

  it('refuses a surrogate made for other images, naming the descriptor and both shapes', async () => {
    const model = join(TORCH_FIXTURES, 'residual-bn', 'target.json');
    await assert.rejects(
      setup({ model }).run(),
      (e: Error) =>
        e.message ===
        `pretrained: ${model} takes 12x12x3 images (HxWxC) and has 10 ` +
          `classes, but the data set has 28x28x1 images and 10 classes; ` +
          `use a surrogate made for this data`,
    );
  });

  it(
    'names SGM and LinBP only as attacks: sgmGamma is not one of its ' +
      'parameters, and linbp acts on the opened model',
    async () => {
      await assert.rejects(setup({ model: MNIST_CNN, sgmGamma: 0.5 }).run(), /sgmGamma/);
      const obtained = await setup({ model: MNIST_CNN }).run();
      const surrogate = obtained.surrogate as NonNullable<typeof obtained.surrogate>;
      try {
        const request = {
          images: evaluation.images.subarray(0, 4 * 784),
          trueLabels: evaluation.labels.subarray(0, 4),
          ids: [0, 1, 2, 3],
          eps: 0.1,
          labelSource: 'true' as const,
        };
        const linbp = await craftAdversarial('linbp', surrogate, { ...request, params: { linbpLayer: '/Relu' } });
        assert.notDeepEqual(linbp, await craftAdversarial('mi-fgsm', surrogate, request), 'later Relus pass linearly');
      } finally {
        await surrogate.dispose();
      }
    },
  );

  it('refuses a missing model parameter and a descriptor whose model changed', async () => {
    await assert.rejects(
      setup({}).run(),
      /pretrained: model: got null, expected the path of a target\.json-format descriptor/,
    );
    const changed = join(dir, 'changed');
    mkdirSync(changed, { recursive: true });
    copyFileSync(MNIST_CNN, join(changed, 'target.json'));
    writeFileSync(join(changed, 'model.onnx'), 'not the model');
    await assert.rejects(
      setup({ model: join(changed, 'target.json') }).run(),
      /changed.target\.json: .*model\.onnx has sha256 [0-9a-f]{64}, the descriptor says/,
    );
  });

  it('names pretrained surrogates in leaderboards after their folder or file', () => {
    assert.equal(ownedModelLabel('test/fixtures/torch/mnist-cnn/target.json'), 'mnist-cnn');
    assert.equal(ownedModelLabel('surrogates/resnet50.json'), 'resnet50');
    assert.equal(ownedModelLabel('C:\\models\\vgg\\target.json'), 'vgg');
  });
});
