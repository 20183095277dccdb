import * as tf from '@tensorflow/tfjs';
import { craftAdversarialSync, type CraftRequest } from '../attacks/index.js';
import { Random } from '../common/random.js';
import { TfjsSurrogate } from '../compute/tfjs-surrogate.js';
import type { BatchTransform } from '../compute/train.js';

/** Goodfellow et al. (1412.6572): J = alpha J(x) + (1 - alpha) J(x + eps sign grad J(x)), true labels. */
export interface GoodfellowTraining {
  method: 'goodfellow';
  eps: number;
  alpha: number;
}

/**
 * Kurakin et al. (1611.01236): `fraction` of each batch replaced by one-step examples, eps drawn
 * per batch from a normal truncated to [0, 2 * epsStd]; adversarial examples weighted by lambda
 * in the loss. Their recipe uses step-ll (true labels never used to make the examples); with
 * `attack: "fgsm"` the examples are made from the true labels, the setting in which they saw
 * label leaking.
 */
export interface KurakinTraining {
  method: 'kurakin';
  epsStd: number;
  fraction: number;
  lambda: number;
  attack?: 'step-ll' | 'fgsm';
}

export type AdversarialTraining = GoodfellowTraining | KurakinTraining;

/** The batch transform trainClassifier applies for a recipe's adversarial training. */
export function adversarialTransform(
  model: tf.LayersModel,
  training: AdversarialTraining,
  seed: number,
): BatchTransform {
  const random = new Random(seed).fork('adversarial-training');
  return (images, labels, step) => {
    const [n, h, w, c] = images.shape;
    // The model as it is at this step, inference mode (dropout off), crafted on synchronously.
    const surrogate = new TfjsSurrogate(
      'adversarial-training',
      (x) => model.apply(x, { training: false }) as tf.Tensor2D,
      [h, w, c],
      labels.shape[1],
    );
    const craft = (
      attack: string,
      x: tf.Tensor4D,
      request: Omit<CraftRequest, 'images' | 'trueLabels'> & { trueLabels: tf.Tensor1D },
    ) =>
      tf.tensor4d(
        craftAdversarialSync(attack, surrogate, {
          ...request,
          images: x.dataSync() as Float32Array,
          trueLabels: request.trueLabels.dataSync() as Int32Array,
        }),
        x.shape,
      );
    const trueLabels = labels.argMax(1).cast('int32') as tf.Tensor1D;
    const ids = Array.from({ length: n }, (_, i) => step * 100000 + i);
    if (training.method === 'goodfellow') {
      const adversarial = craft('fgsm', images, { trueLabels, ids, eps: training.eps, labelSource: 'true' });
      return [
        { images, labels, weight: training.alpha },
        { images: adversarial, labels, weight: 1 - training.alpha },
      ];
    }
    const k = Math.round(n * training.fraction);
    let eps = Math.abs(random.normal() * training.epsStd);
    while (eps > 2 * training.epsStd) eps = Math.abs(random.normal() * training.epsStd);
    const clean = images.slice([k, 0, 0, 0], [n - k, -1, -1, -1]);
    const toAttack = images.slice([0, 0, 0, 0], [k, -1, -1, -1]);
    const attack = training.attack ?? 'step-ll';
    const labelSource = attack === 'fgsm' ? 'true' : 'predicted';
    const adversarial = craft(attack, toAttack, {
      trueLabels: trueLabels.slice([0], [k]),
      ids: ids.slice(0, k),
      eps,
      labelSource,
    });
    const denominator = n - k + training.lambda * k;
    return [
      { images: clean, labels: labels.slice([k, 0], [n - k, -1]), weight: (n - k) / denominator },
      { images: adversarial, labels: labels.slice([0, 0], [k, -1]), weight: (training.lambda * k) / denominator },
    ];
  };
}
