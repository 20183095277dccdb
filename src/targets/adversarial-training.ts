import { craftAdversarial, type CraftRequest } from '../attacks/index.js';
import { Random } from '../common/random.js';
import { networkSurrogate } from '../compute/network/run.js';
import { argmaxRows, type BatchRows, type BatchTransform } from '../compute/train.js';

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

/**
 * The batch transform a recipe's adversarial training applies: each step's examples are crafted
 * on the network as trained up to that step (inference mode: dropout off, BatchNormalization's
 * running statistics), through the generated backward pass on onnxruntime.
 */
export function adversarialTransform(training: AdversarialTraining, seed: number): BatchTransform {
  const random = new Random(seed).fork('adversarial-training');
  return async (clean, step, network) => {
    const { count: n, images, targets } = clean;
    const size = images.length / n;
    const classes = targets.length / n;
    const rows = (from: number, to: number): BatchRows => ({
      count: to - from,
      images: images.subarray(from * size, to * size),
      targets: targets.subarray(from * classes, to * classes),
    });
    const trueLabels = argmaxRows(targets, classes);
    const ids = Array.from({ length: n }, (_, i) => step * 100000 + i);
    const surrogate = await networkSurrogate(network, 'adversarial-training');
    try {
      const craft = async (
        attack: string,
        part: BatchRows,
        request: Omit<CraftRequest, 'images' | 'trueLabels' | 'ids'>,
      ): Promise<BatchRows> => ({
        ...part,
        images: await craftAdversarial(attack, surrogate, {
          ...request,
          images: part.images,
          trueLabels: trueLabels.subarray(0, part.count),
          ids: ids.slice(0, part.count),
        }),
      });
      if (training.method === 'goodfellow') {
        const adversarial = await craft('fgsm', clean, { eps: training.eps, labelSource: 'true' });
        return [
          { ...clean, weight: training.alpha },
          { ...adversarial, weight: 1 - training.alpha },
        ];
      }
      const k = Math.round(n * training.fraction);
      let eps = Math.abs(random.normal() * training.epsStd);
      while (eps > 2 * training.epsStd) eps = Math.abs(random.normal() * training.epsStd);
      const attack = training.attack ?? 'step-ll';
      const adversarial = await craft(attack, rows(0, k), {
        eps,
        labelSource: attack === 'fgsm' ? 'true' : 'predicted',
      });
      const denominator = n - k + training.lambda * k;
      return [
        { ...rows(k, n), weight: (n - k) / denominator },
        { ...adversarial, weight: (training.lambda * k) / denominator },
      ];
    } finally {
      await surrogate.dispose();
    }
  };
}
