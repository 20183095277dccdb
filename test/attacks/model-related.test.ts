import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { craftAdversarial, type CraftRequest } from '../../src/attacks/index.js';
import { useBackend } from '../../src/compute/backend.js';
import { EnsembleSurrogate } from '../../src/compute/ensemble-surrogate.js';
import { ints } from '../../src/compute/onnx-gradient/ir.js';
import { createOnnxSurrogate } from '../../src/compute/onnx-gradient/surrogate.js';
import type { Surrogate } from '../../src/compute/surrogate.js';
import { TinyGraph } from '../compute/onnx-gradient/tiny-graph.js';
import { images, tinyCnn } from './fixtures.js';

/** An 8x8x1 ONNX CNN, with a residual block (Conv -> Relu -> Conv, skip Add) or without (two Conv -> Relu). */
async function onnxCnn(residual: boolean): Promise<{ surrogate: Surrogate; relu: string }> {
  const g = new TinyGraph([1, 8, 8], 13, 11);
  const conv = (input: string, channels: number) =>
    g.node('Conv', [input, g.weight([4, channels, 3, 3]), g.weight([4], 0.1)], { pads: ints([1, 1, 1, 1]) });
  const relu = g.node('Relu', [conv('x', 1)]);
  const second = g.node('Relu', [conv(relu, 4)]);
  const out = residual ? g.node('Relu', [g.node('Add', [conv(second, 4), relu])]) : second;
  const { bytes, description } = await g.classifier(out, 3);
  return { surrogate: await createOnnxSurrogate(bytes, description, { name: residual ? 'residual' : 'plain' }), relu };
}

describe('model-related attacks (sgm, linbp, ghost)', () => {
  const shape: [number, number, number] = [8, 8, 1];
  let x: Float32Array;
  let residual: Awaited<ReturnType<typeof onnxCnn>>;
  let plain: Awaited<ReturnType<typeof onnxCnn>>;
  const labels = Int32Array.from([0, 1, 2, 1]);
  const request = (params: Record<string, unknown> = {}): CraftRequest => ({
    images: x,
    trueLabels: labels,
    ids: [0, 1, 2, 3],
    eps: 0.1,
    labelSource: 'true',
    params: { seed: 3, ...params },
  });

  before(async () => {
    await useBackend('wasm');
    x = tf.tidy(() => images(4, shape, 5).dataSync() as Float32Array);
    residual = await onnxCnn(true);
    plain = await onnxCnn(false);
  });
  after(async () => {
    await residual.surrogate.dispose();
    await plain.surrogate.dispose();
  });

  it('ghost with no erosion (range 0, dropout 0) is mi-fgsm bit for bit, with and without skips', async () => {
    for (const net of [residual, plain]) {
      const none = await craftAdversarial('ghost', net.surrogate, request({ ghostSkipRange: 0, ghostDropRate: 0 }));
      assert.deepEqual(none, await craftAdversarial('mi-fgsm', net.surrogate, request()));
      const eroded = await craftAdversarial('ghost', net.surrogate, request({ ghostDropRate: 0.3 }));
      assert.notDeepEqual(eroded, none, `${net.surrogate.name}: erosion changed nothing`);
    }
  });

  it('ghost repeats under a seed and draws other ghosts under another', async () => {
    const once = await craftAdversarial('ghost', residual.surrogate, request({ ghostSkipRange: 0.5 }));
    assert.deepEqual(await craftAdversarial('ghost', residual.surrogate, request({ ghostSkipRange: 0.5 })), once);
    const other = await craftAdversarial('ghost', residual.surrogate, request({ ghostSkipRange: 0.5, seed: 4 }));
    assert.notDeepEqual(other, once);
  });

  it('sgm with gamma 1 is mi-fgsm bit for bit; its default gamma changes the images', async () => {
    const miFgsm = await craftAdversarial('mi-fgsm', residual.surrogate, request());
    assert.deepEqual(await craftAdversarial('sgm', residual.surrogate, request({ sgmGamma: 1 })), miFgsm);
    assert.notDeepEqual(await craftAdversarial('sgm', residual.surrogate, request()), miFgsm);
  });

  it('sgm refuses a network without residual Adds in one line', async () => {
    await assert.rejects(
      craftAdversarial('sgm', plain.surrogate, request()),
      (error: Error) =>
        /^sgm: surrogate plain has no residual Add \(skip connection\), where SGM would be plain MI-FGSM/.test(
          error.message,
        ) && !error.message.includes('\n'),
    );
  });

  it('linbp changes the gradient after its layer, and refuses an unknown layer and none in one line', async () => {
    const linear = await craftAdversarial('linbp', residual.surrogate, request({ linbpLayer: residual.relu }));
    assert.notDeepEqual(linear, await craftAdversarial('mi-fgsm', residual.surrogate, request()));
    await assert.rejects(
      craftAdversarial('linbp', residual.surrogate, request({ linbpLayer: 'nowhere' })),
      (error: Error) =>
        new RegExp(
          '^linbp: linbpLayer: "nowhere" is not a value of surrogate residual; ' +
            'name one that `transferbench targets inspect` lists \\(its Relus: ',
        ).test(error.message) && !error.message.includes('\n'),
    );
    await assert.rejects(
      craftAdversarial('linbp', residual.surrogate, request()),
      /linbp: linbpLayer: name the surrogate.s value/,
    );
  });

  it('a tfjs surrogate and a logits ensemble refuse a model variant in one line, naming the attack', async () => {
    const tfjs = tinyCnn();
    try {
      for (const attack of ['sgm', 'ghost']) {
        await assert.rejects(
          craftAdversarial(attack, tfjs.surrogate, request()),
          new RegExp(`${attack}: surrogate tiny-cnn cannot build a model-related variant: it is a tfjs model`),
        );
      }
      const ensemble = EnsembleSurrogate.of('pair', [tfjs.surrogate], 'logits');
      await assert.rejects(craftAdversarial('ghost', ensemble, request()), /ghost: surrogate pair .*combine by "loss"/);
    } finally {
      tfjs.dispose();
    }
  });

  it('a loss ensemble forwards the variant to its ONNX members', async () => {
    const ensemble = EnsembleSurrogate.of('one', [residual.surrogate], 'loss');
    assert.deepEqual(
      await craftAdversarial('ghost', ensemble, request()),
      await craftAdversarial('ghost', residual.surrogate, request()),
    );
  });
});
