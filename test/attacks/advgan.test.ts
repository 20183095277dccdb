import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { generateAdversarial, trainGenerator } from '../../src/attacks/advgan/index.js';
import { craftAdversarial, drive, perturbationNorms } from '../../src/attacks/index.js';
import { TfjsSurrogate, type LogitsFunction } from '../../src/compute/tfjs-surrogate.js';
import { buildArchitecture } from '../../src/compute/architectures.js';
import { InstanceNorm } from '../../src/compute/layers/index.js';
import { useBackend } from '../../src/compute/backend.js';
import { loadImageNetwork, saveImageNetwork } from '../../src/compute/network/image-persist.js';
import { trainClassifier } from '../../src/compute/train.js';
import { loadEmbeddedMnist, stratifiedSplit, take } from '../../src/data/index.js';
import { tempDir } from '../fixtures/files.js';

describe('AdvGAN', function () {
  this.timeout(300000);
  const { train, test } = stratifiedSplit(loadEmbeddedMnist(), 0.2, 0);
  const fit = take(train, 1500);
  const victims = take(test, 200);
  let net: tf.LayersModel;
  let model: LogitsFunction;
  let surrogate: TfjsSurrogate;

  before(async () => {
    await useBackend('wasm');
    net = buildArchitecture('mlp', { imageShape: [28, 28, 1], classes: 10, seed: 3 });
    await trainClassifier(
      net,
      { images: fit.images, imageShape: [28, 28, 1], targets: fit.labels, classes: 10 },
      { epochs: 3, batchSize: 64, learningRate: 0.002, seed: 3 },
    );
    model = (x) => net.apply(x) as tf.Tensor2D;
    surrogate = TfjsSurrogate.fromLayersModel('mlp', net);
  });
  after(() => net.dispose());

  const accuracyOn = (images: tf.Tensor4D) =>
    tf.tidy(() => model(images).argMax(1).equal(tf.tensor1d(victims.labels, 'int32')).mean().dataSync()[0] as number);

  it("training the generator lowers the model's accuracy on its outputs, inside the eps-ball", async () => {
    const before = tf.memory().numTensors;
    const values = await craftAdversarial('advgan', surrogate, {
      images: victims.images,
      trueLabels: victims.labels,
      ids: Array.from({ length: 200 }, (_, i) => i),
      eps: 0.3,
      labelSource: 'true',
      params: { epochs: 3, seed: 1 },
      pool: { images: fit.images, labels: fit.labels },
    });
    assert.equal(tf.memory().numTensors, before, 'no tensor remains');
    const x = tf.tensor4d(victims.images, [200, 28, 28, 1]);
    const adversarial = tf.tensor4d(values, [200, 28, 28, 1]);
    const clean = accuracyOn(x);
    const attacked = accuracyOn(adversarial);
    const norms = perturbationNorms(values, victims.images, 200);
    tf.dispose([x, adversarial]);
    assert.ok(attacked < clean - 0.3, `accuracy ${clean} -> ${attacked}`);
    for (const n of norms.linf) assert.ok(n <= 0.3 + 1e-6, `linf ${n}`);
  });

  it('a saved generator reloads and reproduces the same outputs', async () => {
    const generator = await drive(
      surrogate,
      trainGenerator(fit.images.subarray(0, 256 * 784), fit.labels.subarray(0, 256), [28, 28, 1], {
        eps: 0.3,
        epochs: 1,
        batchSize: 64,
        learningRate: 0.001,
        alpha: 1,
        beta: 1,
        hingeBound: 3,
        confidence: 0,
        targeted: false,
        seed: 2,
      }),
    );
    const dir = tempDir('transferbench-advgan-');
    saveImageNetwork(generator, dir, 'onnxruntime');
    const reloaded = await loadImageNetwork(dir, { architecture: generator.architecture, engine: 'onnxruntime' });
    assert.ok(reloaded !== undefined);
    const x = victims.images.slice(0, 16 * 784);
    assert.deepEqual(await generateAdversarial(reloaded, x, 16, 0.3), await generateAdversarial(generator, x, 16, 0.3));
  });
});

describe('InstanceNorm', () => {
  before(async () => {
    await useBackend('wasm');
  });

  it('normalises every image and channel over height and width, then applies gamma and beta, with gradients', () => {
    const layer = new InstanceNorm();
    const x = tf.tidy(
      () =>
        tf
          .randomNormal([3, 5, 4, 2], 2, 3, 'float32', 7)
          .mul(tf.tensor1d([1, 10]).reshape([1, 1, 1, 2])) as tf.Tensor4D,
    );
    const y = layer.apply(x) as tf.Tensor4D;
    const { mean, variance } = tf.moments(y, [1, 2]);
    assert.ok(mean.abs().max().dataSync()[0]! < 1e-5, 'zero mean per image and channel');
    assert.ok(variance.sub(1).abs().max().dataSync()[0]! < 1e-3, 'unit variance per image and channel');
    const grad = tf.grad((input: tf.Tensor) =>
      (layer.apply(input) as tf.Tensor).mul(tf.linspace(0, 1, 120).reshape([3, 5, 4, 2])).sum(),
    )(x);
    assert.ok(grad.abs().sum().dataSync()[0]! > 0 && grad.isFinite().all().dataSync()[0] === 1);
    assert.deepEqual(
      layer.getWeights().map((w) => w.shape),
      [[2], [2]],
    );
    tf.dispose([x, y, mean, variance, grad]);
    layer.dispose();
  });
});
