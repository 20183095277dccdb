import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { TfjsSurrogate, type LogitsFunction } from '../../src/compute/tfjs-surrogate.js';
import { craftTensors } from './fixtures.js';
import { buildArchitecture } from '../../src/compute/architectures.js';
import { useBackend } from '../../src/compute/backend.js';
import { trainClassifier } from '../../src/compute/train.js';
import { loadEmbeddedMnist, stratifiedSplit, take } from '../../src/data/index.js';

describe('white-box attacks on a small trained CNN', () => {
  let net: tf.LayersModel;
  let model: LogitsFunction;
  let surrogate: TfjsSurrogate;
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
    await trainClassifier(
      net,
      { images: subset.images, imageShape: [28, 28, 1], targets: subset.labels, classes: 10 },
      { epochs: 2, batchSize: 64, learningRate: 2e-3, seed: 0 },
    );
    model = (input) => net.apply(input) as tf.Tensor2D;
    surrogate = TfjsSurrogate.fromLayersModel('cnn-small', net);
    const evalSet = take(test, n);
    x = tf.tensor4d(evalSet.images, [n, 28, 28, 1]);
    y = tf.tensor1d(evalSet.labels, 'int32');
  });
  after(() => {
    net.dispose();
    tf.dispose([x, y]);
  });

  const successRate = async (attack: string, eps: number): Promise<number> => {
    const adversarial = await craftTensors(attack, surrogate, {
      images: x,
      trueLabels: y,
      ids,
      eps,
      labelSource: 'true',
    });
    const rate = tf.tidy(() => model(adversarial).argMax(1).notEqual(y).mean().dataSync()[0] as number);
    adversarial.dispose();
    return rate;
  };

  it('is accurate on clean images before it is attacked', async () => {
    assert.ok((await successRate('fgsm', 0)) < 0.15, 'clean error above 15%');
  });

  it('FGSM success rises with eps', async () => {
    const rates = [await successRate('fgsm', 0.05), await successRate('fgsm', 0.15), await successRate('fgsm', 0.3)];
    assert.ok(
      (rates[0] as number) < (rates[1] as number) && (rates[1] as number) < (rates[2] as number),
      `rates ${rates.join(', ')}`,
    );
  });

  it('multi-step attacks beat single-step ones white-box at the same eps', async () => {
    const eps = 0.1;
    const single = await successRate('fgsm', eps);
    const bim = await successRate('bim', eps);
    const pgd = await successRate('pgd', eps);
    assert.ok(bim > single, `BIM ${bim} vs FGSM ${single}`);
    assert.ok(pgd > single, `PGD ${pgd} vs FGSM ${single}`);
  });
});
