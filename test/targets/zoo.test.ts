import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { craftAdversarial } from '../../src/attacks/index.js';
import { trainNetwork } from '../../src/compute/engine.js';
import { buildNetwork } from '../../src/compute/network/architectures.js';
import { networkHash } from '../../src/compute/network/network.js';
import { networkLogits, networkSurrogate } from '../../src/compute/network/run.js';
import { accuracy, argmaxRows } from '../../src/compute/train.js';
import { loadEmbeddedMnist, stratifiedSplit, take } from '../../src/data/index.js';
import { rubbishImages } from '../../src/runner/rubbish.js';
import { adversarialTransform } from '../../src/targets/adversarial-training.js';
import { loadTarget } from '../../src/targets/descriptor.js';
import { openOwnedNetwork } from '../../src/targets/owned-network.js';
import { buildTarget, loadZoo, type TargetRecipe } from '../../src/targets/zoo.js';
import { tempDir } from '../fixtures/files.js';

describe('target zoo', () => {
  const dir = tempDir('transferbench-zoo-');
  const split = stratifiedSplit(loadEmbeddedMnist(), 0.2, 0);
  const small = { train: take(split.train, 512), test: take(split.test, 256) };

  for (const recipe of [
    { name: 'tiny-softmax', architecture: 'softmax', epochs: 2, batchSize: 64, learningRate: 0.01, seed: 1 },
    { name: 'tiny-rbf', architecture: 'rbf', epochs: 20, batchSize: 32, learningRate: 0.05, seed: 5 },
    {
      name: 'tiny-goodfellow',
      architecture: 'softmax',
      epochs: 1,
      batchSize: 64,
      learningRate: 0.01,
      seed: 2,
      adversarialTraining: { method: 'goodfellow', eps: 0.25, alpha: 0.5 },
    },
    {
      name: 'tiny-kurakin',
      architecture: 'softmax',
      epochs: 1,
      batchSize: 64,
      learningRate: 0.01,
      seed: 3,
      adversarialTraining: { method: 'kurakin', epsStd: 0.15, fraction: 0.5, lambda: 0.3 },
    },
  ] as TargetRecipe[]) {
    it(`builds ${recipe.name}: an ONNX graph on the onnxruntime engine and a valid descriptor`, async () => {
      const built = await buildTarget(recipe, small, 'mnist-embedded', dir);
      assert.ok(built.cleanAccuracy > 0.5, `accuracy ${built.cleanAccuracy}`);
      const target = loadTarget(built.descriptorPath);
      assert.equal(target.descriptor.recipe?.name, recipe.name);
      assert.equal(target.descriptor.outputKind, recipe.architecture === 'rbf' ? 'log-probabilities' : 'logits');
      assert.ok(!existsSync(join(dir, recipe.name, 'tfjs')), 'no tfjs copy beside the graph');
      const network = await openOwnedNetwork(built.descriptorPath, { fresh: false, seed: 0 });
      const scores = (images: Float32Array) => networkLogits(network, images);
      const predicted = argmaxRows(await scores(small.test.images), 10);
      assert.equal(accuracy(predicted, small.test.labels), built.cleanAccuracy, 'the descriptor says what it computes');
      if (recipe.architecture === 'rbf') {
        // Each class a detector: confident on digits, not on noise (Goodfellow et al.'s RBF).
        const confidence = async (images: Float32Array, n: number) => {
          const logits = await scores(images);
          let sum = 0;
          for (let i = 0; i < n; i++) sum += Math.exp(Math.max(...logits.subarray(i * 10, i * 10 + 10)));
          return sum / n;
        };
        const digits = await confidence(small.test.images.subarray(0, 100 * 784), 100);
        const noise = await confidence(rubbishImages({ samples: 100 }, [28, 28, 1], 0), 100);
        assert.ok(digits > 0.3 && noise < digits / 3, `mean confidence: digits ${digits}, noise ${noise}`);
      }
    });
  }

  it('makes Kurakin-recipe examples with step-ll by default, and from the true labels with attack "fgsm"', async () => {
    const network = buildNetwork('softmax', { imageShape: [28, 28, 1], classes: 10, seed: 4 });
    const n = 8;
    const images = small.train.images.slice(0, n * 784);
    const trueLabels = small.train.labels.slice(0, n);
    const targets = new Float32Array(n * 10);
    trueLabels.forEach((y, i) => {
      targets[i * 10 + y] = 1;
    });
    const clean = { count: n, images, targets };
    const recipe = { method: 'kurakin', epsStd: 0.15, fraction: 0.5, lambda: 0.3 } as const;
    const [rest, stepLl] = await adversarialTransform(recipe, 9)(clean, 0, network);
    const [, fgsm] = await adversarialTransform({ ...recipe, attack: 'fgsm' }, 9)(clean, 0, network);
    assert.ok(rest && stepLl && fgsm);
    assert.deepEqual([rest.count, stepLl.count], [4, 4], 'half the batch replaced');
    assert.ok(Math.abs(rest.weight + stepLl.weight - 1) < 1e-12, 'the weights sum to one');
    assert.deepEqual(rest.images, images.subarray(4 * 784), 'the clean half is the batch after the replaced half');
    const first = images.subarray(0, 4 * 784);
    const eps = fgsm.images.reduce((m, v, i) => Math.max(m, Math.abs(v - (first[i] as number))), 0);
    const surrogate = await networkSurrogate(network, 'reference');
    try {
      const expected = await craftAdversarial('fgsm', surrogate, {
        images: first,
        trueLabels: trueLabels.subarray(0, 4),
        ids: [0, 1, 2, 3],
        eps,
        labelSource: 'true',
      });
      const gap = expected.reduce((m, v, i) => Math.max(m, Math.abs(v - (fgsm.images[i] as number))), 0);
      assert.ok(gap < 1e-6, `FGSM from the true labels at the drawn eps: ${gap}`);
    } finally {
      await surrogate.dispose();
    }
    assert.ok(
      stepLl.images.some((v, i) => v !== fgsm.images[i]),
      'step-ll examples differ',
    );
  });

  it('crafts each step on the network as trained so far', async () => {
    const untrained = buildNetwork('softmax', { imageShape: [28, 28, 1], classes: 10, seed: 6 });
    const inner = adversarialTransform({ method: 'goodfellow', eps: 0.1, alpha: 0.5 }, 6);
    const seen: string[] = [];
    const set = { images: small.train.images.subarray(0, 128 * 784), imageShape: [28, 28, 1] as const };
    await trainNetwork(
      untrained,
      { ...set, targets: small.train.labels.subarray(0, 128), classes: 10 },
      {
        epochs: 1,
        batchSize: 64,
        learningRate: 0.01,
        seed: 6,
        transform: (clean, step, network) => {
          seen.push(networkHash(network));
          return inner(clean, step, network);
        },
      },
      { name: 'onnxruntime', threads: 1, optimizer: 'typed-arrays' },
    );
    assert.equal(seen.length, 2, 'one call per minibatch');
    assert.equal(seen[0], networkHash(untrained), 'the first step crafts on the untrained network');
    assert.notEqual(seen[1], seen[0], 'the second on the network after one step');
  });

  it('reads the shipped zoo recipes', () => {
    const zoo = loadZoo(new URL('../../../targets/zoo.json', import.meta.url).pathname);
    assert.ok(zoo.targets.some((t) => t.name === 'model-c-adv-kurakin' && t.adversarialTraining?.method === 'kurakin'));
  });

  it('refuses recipes with an unknown architecture, naming the key and the allowed values', () => {
    const file = join(dir, 'bad-zoo.json');
    writeFileSync(
      file,
      JSON.stringify({
        dataset: 'mnist-embedded',
        targets: [{ name: 'x', architecture: 'resnet', epochs: 1, batchSize: 8, learningRate: 0.1, seed: 0 }],
      }),
    );
    assert.throws(
      () => loadZoo(file),
      new RegExp(
        'bad-zoo.json: targets\\[0\\].architecture is "resnet"; allowed: ' +
          '"softmax", "maxout", "rbf", "mlp", "cnn-small", "model-a", "model-b", ' +
          '"model-c", "resnet18", "resnet8", "vgg11"',
      ),
    );
  });

  it('refuses duplicate target names', () => {
    const file = join(dir, 'dup-zoo.json');
    const recipe = { name: 'x', architecture: 'mlp', epochs: 1, batchSize: 8, learningRate: 0.1, seed: 0 };
    writeFileSync(file, JSON.stringify({ dataset: 'mnist-embedded', targets: [recipe, recipe] }));
    assert.throws(() => loadZoo(file), /targets\[1\].name "x" appears twice/);
  });
});
