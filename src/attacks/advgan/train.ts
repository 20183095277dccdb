import * as tf from '@tensorflow/tfjs';
import { Random } from '../../common/random.js';
import { trainableVariables } from '../../compute/train.js';
import type { AttackParams, LogitsModel } from '../types.js';
import { buildDiscriminator, buildGenerator } from './networks.js';

export interface AdvGanOptions {
  readonly eps: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Weight of the least-squares GAN loss. */
  readonly alpha: number;
  /** Weight of the hinge loss on the perturbation's L2 norm. */
  readonly beta: number;
  /** The hinge's bound c on ||G(x)||_2. */
  readonly hingeBound: number;
  /** C&W margin kappa of the adversarial loss. */
  readonly confidence: number;
  readonly targeted: boolean;
  readonly seed: number;
}

/** Perturbed images: clip(x + eps * G(x)). */
export function generate(generator: tf.LayersModel, images: tf.Tensor4D, eps: number): tf.Tensor4D {
  return tf.tidy(() => images.add((generator.apply(images) as tf.Tensor4D).mul(eps)).clipByValue(0, 1) as tf.Tensor4D);
}

/** C&W-style margin on the attacked model, per example: zero once another class (or the target) wins by kappa. */
function adversarialLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, targeted: boolean, kappa: number): tf.Scalar {
  const oneHot = tf.oneHot(labels, logits.shape[1]).toFloat();
  const labelLogit = logits.mul(oneHot).sum(1);
  const bestOther = logits.sub(oneHot.mul(1e9)).max(1);
  const gap = targeted ? bestOther.sub(labelLogit) : labelLogit.sub(bestOther);
  return gap.add(kappa).relu().mean() as tf.Scalar;
}

/**
 * Trains AdvGAN's generator against a differentiable model (the paper's L = L_adv + alpha L_GAN +
 * beta L_hinge), alternating a discriminator step and a generator step per batch.
 */
export function trainGenerator(model: LogitsModel, images: Float32Array, labels: Int32Array, imageShape: readonly [number, number, number], options: AdvGanOptions): tf.LayersModel {
  const [h, w, c] = imageShape;
  const size = h * w * c;
  const count = labels.length;
  const generator = buildGenerator(imageShape, options.seed);
  const discriminator = buildDiscriminator(imageShape, options.seed);
  const gOptimizer = tf.train.adam(options.learningRate);
  const dOptimizer = tf.train.adam(options.learningRate);
  const gVariables = trainableVariables(generator);
  const dVariables = trainableVariables(discriminator);
  const random = new Random(options.seed).fork('advgan-train');
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const order = random.permutation(count);
      for (let start = 0; start < count; start += options.batchSize) {
        const indices = order.subarray(start, Math.min(count, start + options.batchSize));
        tf.tidy(() => {
          const pixels = new Float32Array(indices.length * size);
          indices.forEach((i, k) => pixels.set(images.subarray(i * size, (i + 1) * size), k * size));
          const x = tf.tensor4d(pixels, [indices.length, h, w, c]);
          const y = tf.tensor1d(Int32Array.from(indices, (i) => labels[i] as number), 'int32');
          dOptimizer.minimize(() => {
            const fake = generate(generator, x, options.eps);
            const real = discriminator.apply(x) as tf.Tensor;
            const faked = discriminator.apply(fake) as tf.Tensor;
            return real.sub(1).square().mean().add(faked.square().mean()) as tf.Scalar;
          }, false, dVariables);
          gOptimizer.minimize(() => {
            const perturbation = (generator.apply(x) as tf.Tensor4D).mul(options.eps);
            const adversarial = x.add(perturbation).clipByValue(0, 1) as tf.Tensor4D;
            const gan = (discriminator.apply(adversarial) as tf.Tensor).sub(1).square().mean();
            const hinge = perturbation.square().sum([1, 2, 3]).sqrt().sub(options.hingeBound).relu().mean();
            const adv = adversarialLoss(model(adversarial), y, options.targeted, options.confidence);
            return adv.add(gan.mul(options.alpha)).add(hinge.mul(options.beta)) as tf.Scalar;
          }, false, gVariables);
        });
      }
    }
    return generator;
  } finally {
    gOptimizer.dispose();
    dOptimizer.dispose();
    discriminator.dispose();
  }
}

/** The generator's training options from resolved attack parameters. */
export function generatorOptions(params: AttackParams): AdvGanOptions {
  return {
    eps: params.eps,
    epochs: params.epochs,
    batchSize: 64,
    learningRate: params.learningRate,
    alpha: params.alpha,
    beta: params.beta,
    hingeBound: params.hingeBound,
    confidence: params.confidence,
    targeted: params.targeted,
    seed: params.seed,
  };
}
