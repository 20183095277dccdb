import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { craftOnSurrogate } from '../../src/runner/evaluate.js';
import { useBackend } from '../../src/compute/backend.js';
import { initializerValues, type OnnxNetwork } from '../../src/compute/network/network.js';
import { networkLogits, networkSurrogate } from '../../src/compute/network/run.js';
import { loadEmbeddedMnist, stratifiedSplit, subset, take } from '../../src/data/index.js';
import { OraclePool, TargetOracle } from '../../src/oracle/index.js';
import { fidelityMeter, obtainSubstitute, type SubstituteContext } from '../../src/substitutes/index.js';
import { loadTarget, type ResolvedTarget } from '../../src/targets/descriptor.js';
import { openOwnedNetwork } from '../../src/targets/owned-network.js';
import { buildTarget } from '../../src/targets/zoo.js';
import { TORCH_FIXTURES } from '../fixtures/torch-cases.js';
import { tempDir } from '../fixtures/files.js';

/** A PyTorch-trained MNIST CNN exported to ONNX (bench/torch_fixtures.py): the attacker's own pretrained model. */
const MNIST_CNN = join(TORCH_FIXTURES, 'mnist-cnn', 'target.json');

describe(
  'substitutes of any architecture: a ResNet and a given ONNX file, ' + 'trained by strategies through the oracle',
  () => {
    const dir = tempDir('transferbench-networks-');
    const { train, test } = stratifiedSplit(loadEmbeddedMnist(), 0.2, 0);
    const attacker = subset(
      train,
      Int32Array.from({ length: 1000 }, (_, i) => 2000 + i),
    );
    const evaluation = take(test, 100);
    let pool: OraclePool;
    let target: ResolvedTarget;

    before(async function () {
      this.timeout(120000);
      await useBackend('wasm');
      const built = await buildTarget(
        { name: 'tiny-mlp', architecture: 'mlp', epochs: 2, batchSize: 64, learningRate: 0.002, seed: 1 },
        { train: take(train, 2000), test: evaluation },
        'mnist-embedded',
        dir,
      );
      target = loadTarget(built.descriptorPath);
      pool = new OraclePool({ workers: 1 });
    });
    after(async () => {
      await pool.close();
    });

    const obtain = (strategy: string, architecture: string, budget: number, params = {}, init?: 'fresh') => {
      const oracle = new TargetOracle(pool, target, { mode: 'probabilities', budget });
      const context: SubstituteContext = {
        oracle,
        architecture,
        seed: 0,
        budget,
        training: { epochs: 1, batchSize: 32, learningRate: 1e-3, ...(init ? { init } : {}) },
        attackerImages: attacker.images,
        attackerLabels: attacker.labels,
        imageShape: [28, 28, 1],
        classes: 10,
        measureFidelity: fidelityMeter(oracle, evaluation.images, [28, 28, 1]),
        openNetwork: openOwnedNetwork,
      };
      const result = obtainSubstitute(strategy, params, context, {
        cacheDir: join(dir, 'cache'),
        useCache: true,
        targetFingerprint: target.descriptor.sha256,
        oracleMode: 'probabilities',
        dataFingerprint: 'mnist-embedded/seed0/1000',
        evaluationImages: evaluation.images,
        evaluationLabels: evaluation.labels,
      });
      return { oracle, result };
    };

    it(
      'dynamic distillation trains a ResNet-8 on exactly its budget, caches ' + 'it as ONNX, and FGSM crafts on it',
      async () => {
        const { oracle, result } = obtain('dynamic-distillation', 'resnet8', 120, { rounds: 2 });
        const obtained = await result;
        const network = obtained.network as OnnxNetwork;
        assert.ok(network, 'a network');
        assert.equal(oracle.usage().byPurpose['substitute-training'], 120, 'three rounds of 40 queries');
        assert.equal(obtained.record.queriesSpent, 120);
        assert.equal(obtained.record.architecture, 'resnet8');
        assert.match(obtained.record.onnxSha256 ?? '', /^[0-9a-f]{16}$/);
        const cached = readFileSync(
          join(dir, 'cache', readdir(join(dir, 'cache'), 'dynamic-distillation-resnet8'), 'meta.json'),
          'utf8',
        );
        assert.equal(JSON.parse(cached).onnxSha256, obtained.record.onnxSha256, 'meta.json names the model file');
        const again = await obtain('dynamic-distillation', 'resnet8', 120, { rounds: 2 }).result;
        assert.equal(again.record.fromCache, true);
        const probe = evaluation.images.subarray(0, 4 * 784);
        assert.deepEqual(await networkLogits(again.network as OnnxNetwork, probe), await networkLogits(network, probe));
        const surrogate = await networkSurrogate(network, 'resnet8');
        try {
          const outcome = await craftOnSurrogate(surrogate, { name: 'fgsm' }, probe, evaluation.labels.subarray(0, 4), {
            eps: 0.1,
            labelSource: 'true',
            params: {},
            seed: 0,
          });
          const moved = outcome.adversarial.reduce((m, v, i) => Math.max(m, Math.abs(v - (probe[i] as number))), 0);
          assert.ok(moved > 0.09 && moved <= 0.1 + 1e-6, `L-inf ${moved}`);
        } finally {
          await surrogate.dispose();
        }
      },
    );

    it(
      'static distillation fine-tunes a given PyTorch ONNX model from its ' + 'weights, or trains its graph afresh',
      async () => {
        const given = await openOwnedNetwork(MNIST_CNN, { fresh: false, seed: 0 });
        const weight = given.trainable[0] as string;
        const before = initializerValues(given.graph, weight).values;
        const { oracle, result } = obtain('static-distillation', MNIST_CNN, 64);
        const tuned = await result;
        assert.equal(oracle.usage().byPurpose['substitute-training'], 64);
        assert.equal(tuned.record.queriesSpent, 64);
        const after = initializerValues((tuned.network as OnnxNetwork).graph, weight).values;
        assert.notDeepEqual(after, before, 'fine-tuning moved the weights');
        const change = after.reduce((s, v, i) => s + Math.abs(v - (before[i] as number)), 0) / after.length;
        assert.ok(change < 0.01, `one epoch at 1e-3 stays near the given weights (mean |change| ${change})`);
        assert.ok(
          tuned.record.cleanAccuracy > 0.8,
          `the pretrained network keeps its accuracy: ${tuned.record.cleanAccuracy}`,
        );
        const fresh = await obtain('static-distillation', MNIST_CNN, 64, {}, 'fresh').result;
        assert.equal(fresh.record.fromCache, false, 'a fresh start is another substitute');
        assert.ok(fresh.record.cleanAccuracy < tuned.record.cleanAccuracy, 'from scratch, 64 images teach less');
      },
    );

    it('refuses an ONNX file whose outputs do not match the target, before any query', async () => {
      const residual = join(TORCH_FIXTURES, 'residual-bn', 'target.json');
      const { oracle, result } = obtain('static-distillation', residual, 64);
      await assert.rejects(
        result,
        /residual-bn\/target.json: the model reads 12x12x3 images; the data set's are 28x28x1/,
      );
      assert.equal(oracle.usage().byPurpose['substitute-training'], 0);
    });
  },
);

function readdir(path: string, prefix: string): string {
  const found = readdirSync(path).find((f) => f.startsWith(prefix));
  if (found === undefined) throw new Error(`no ${prefix}* in ${path}`);
  return found;
}
