import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { craftAdversarial, type LogitsModel } from '../../src/attacks/index.js';
import { buildArchitecture } from '../../src/compute/architectures.js';
import { useBackend } from '../../src/compute/backend.js';
import { trainClassifier } from '../../src/compute/train.js';
import { loadEmbeddedMnist, stratifiedSplit, take } from '../../src/data/index.js';

describe('white-box attacks on a small trained CNN', () => {
  let net: tf.LayersModel;
  let model: LogitsModel;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;
  const n = 200;
  const ids = Array.from({ length: n }, (_, i) => i);

  before(async function () {
    this.timeout(300000);
    await useBackend('wasm');
    const { train, test } = stratifiedSplit(loadEmbeddedMnist(), 0.2, 0);
    const subset = take(train, 3000);
    net = buildArchitecture('cnn-small', { imageShape: [28, 28, 1], classes: 10, seed: 0 });
    trainClassifier(net, { images: subset.images, imageShape: [28, 28, 1], targets: subset.labels, classes: 10 }, { epochs: 2, batchSize: 64, learningRate: 2e-3, seed: 0 });
    model = (input) => net.apply(input) as tf.Tensor2D;
    const evalSet = take(test, n);
    x = tf.tensor4d(evalSet.images, [n, 28, 28, 1]);
    y = tf.tensor1d(evalSet.labels, 'int32');
  });
  after(() => {
    net.dispose();
    tf.dispose([x, y]);
  });

  const successRate = (attack: string, eps: number): number => {
    const adversarial = craftAdversarial(attack, model, { images: x, trueLabels: y, ids, eps, labelSource: 'true' });
    const rate = tf.tidy(() => model(adversarial).argMax(1).notEqual(y).mean().dataSync()[0] as number);
    adversarial.dispose();
    return rate;
  };

  it('is accurate on clean images before it is attacked', () => {
    assert.ok(successRate('fgsm', 0) < 0.15, 'clean error above 15%');
  });

  it('FGSM success rises with eps', () => {
    const rates = [0.05, 0.15, 0.3].map((eps) => successRate('fgsm', eps));
    assert.ok((rates[0] as number) < (rates[1] as number) && (rates[1] as number) < (rates[2] as number), `rates ${rates.join(', ')}`);
  });

  it('multi-step attacks beat single-step ones white-box at the same eps', () => {
    const eps = 0.1;
    const single = successRate('fgsm', eps);
    const bim = successRate('bim', eps);
    const pgd = successRate('pgd', eps);
    assert.ok(bim > single, `BIM ${bim} vs FGSM ${single}`);
    assert.ok(pgd > single, `PGD ${pgd} vs FGSM ${single}`);
  });
});
