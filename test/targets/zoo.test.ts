import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../src/compute/backend.js';
import { outputKindOf, predictLogits } from '../../src/compute/train.js';
import { loadEmbeddedMnist, stratifiedSplit, take } from '../../src/data/index.js';
import { loadTarget } from '../../src/targets/descriptor.js';
import { loadTfjs } from '../../src/compute/persist.js';
import { buildTarget, loadZoo, type TargetRecipe } from '../../src/targets/zoo.js';
import { adversarialTransform } from '../../src/targets/adversarial-training.js';
import { craftAdversarialSync } from '../../src/attacks/index.js';
import { TfjsSurrogate } from '../../src/compute/tfjs-surrogate.js';
import { buildArchitecture } from '../../src/compute/architectures.js';
import { tempDir } from '../fixtures/files.js';
import { rubbishImages } from '../../src/runner/rubbish.js';

describe('target zoo', () => {
  const dir = tempDir('transferbench-zoo-');
  const split = stratifiedSplit(loadEmbeddedMnist(), 0.2, 0);
  const small = { train: take(split.train, 512), test: take(split.test, 256) };

  before(async () => {
    await useBackend('wasm');
  });

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
    it(
      `builds ${recipe.name}: ONNX with parity, a valid descriptor, ` + `reloadable tfjs weights, no tensor left`,
      async () => {
        const before = tf.memory().numTensors;
        const built = await buildTarget(recipe, small, 'mnist-embedded', dir);
        assert.equal(tf.memory().numTensors, before);
        assert.ok(built.parityMaxDifference <= 1e-4);
        assert.ok(built.cleanAccuracy > 0.5, `accuracy ${built.cleanAccuracy}`);
        const target = loadTarget(built.descriptorPath);
        assert.equal(target.descriptor.recipe?.name, recipe.name);
        assert.equal(target.descriptor.outputKind, recipe.architecture === 'rbf' ? 'log-probabilities' : 'logits');
        if (recipe.architecture === 'rbf') {
          // Each class a detector: confident on digits, not on noise (Goodfellow et al.'s RBF).
          const model = await loadTfjs(join(dir, recipe.name, 'tfjs'));
          assert.equal(outputKindOf(model), 'log-probabilities', 'the output kind is saved with the weights');
          const confidence = (images: Float32Array, n: number) => {
            const scores = predictLogits(model, images, [28, 28, 1]);
            let sum = 0;
            for (let i = 0; i < n; i++) sum += Math.exp(Math.max(...scores.subarray(i * 10, i * 10 + 10)));
            return sum / n;
          };
          const digits = confidence(small.test.images.subarray(0, 100 * 784), 100);
          const noise = confidence(rubbishImages({ samples: 100 }, [28, 28, 1], 0), 100);
          model.dispose();
          assert.ok(digits > 0.3 && noise < digits / 3, `mean confidence: digits ${digits}, noise ${noise}`);
        }
        const reloaded = await loadTfjs(join(dir, recipe.name, 'tfjs'));
        const logits = predictLogits(reloaded, small.test.images.subarray(0, 784 * 4), [28, 28, 1]);
        reloaded.dispose();
        assert.equal(logits.length, 40);
      },
    );
  }

  it('makes Kurakin-recipe examples with step-ll by default, and from the true labels with attack "fgsm"', () => {
    const model = buildArchitecture('softmax', { imageShape: [28, 28, 1], classes: 10, seed: 4 });
    const surrogate = TfjsSurrogate.fromLayersModel('softmax', model);
    const n = 8;
    tf.tidy(() => {
      const images = tf.tensor4d(small.train.images.subarray(0, n * 784), [n, 28, 28, 1]);
      const trueLabels = tf.tensor1d(small.train.labels.subarray(0, n), 'int32');
      const labels = tf.oneHot(trueLabels, 10).toFloat() as tf.Tensor2D;
      const recipe = { method: 'kurakin', epsStd: 0.15, fraction: 0.5, lambda: 0.3 } as const;
      const [, stepLl] = adversarialTransform(model, recipe, 9)(images, labels, 0);
      const [, fgsm] = adversarialTransform(model, { ...recipe, attack: 'fgsm' }, 9)(images, labels, 0);
      const adversarial = (fgsm as { images: tf.Tensor4D }).images;
      const first = images.slice([0, 0, 0, 0], [4, -1, -1, -1]);
      const eps = adversarial.sub(first).abs().max().dataSync()[0] as number;
      const expected = tf.tensor4d(
        craftAdversarialSync('fgsm', surrogate, {
          images: first.dataSync() as Float32Array,
          trueLabels: trueLabels.slice([0], [4]).dataSync() as Int32Array,
          ids: [0, 1, 2, 3],
          eps,
          labelSource: 'true',
        }),
        first.shape,
      );
      assert.ok(
        adversarial.sub(expected).abs().max().dataSync()[0]! < 1e-5,
        'FGSM from the true labels at the drawn eps',
      );
      assert.ok(
        (stepLl as { images: tf.Tensor4D }).images.sub(adversarial).abs().max().dataSync()[0]! > 0,
        'step-ll examples differ',
      );
    });
    model.dispose();
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
          '"model-c"',
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
