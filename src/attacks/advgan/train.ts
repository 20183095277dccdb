import * as tf from '@tensorflow/tfjs';
import { Random } from '../../common/random.js';
import { trainableVariables } from '../../compute/train.js';
import { lossGradientOf, type Crafting } from '../crafting.js';
import type { AttackParams } from '../types.js';
import { buildDiscriminator, buildGenerator } from './networks.js';
import { valuesOf } from '../../compute/values.js';

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

/**
 * Trains AdvGAN's generator against a surrogate (the paper's L = L_adv + alpha L_GAN + beta
 * L_hinge), alternating a discriminator step and a generator step per batch. L_adv is the
 * surrogate's C&W margin, averaged over the batch: the surrogate gives its gradient with respect
 * to the adversarial images, and that gradient enters the generator's backward pass as the
 * upstream gradient of those images (a vector-Jacobian product through the generator), through
 * the linear term sum(adversarial * upstream) whose gradient it is.
 */
export function* trainGenerator(images: Float32Array, labels: Int32Array, imageShape: readonly [number, number, number], options: AdvGanOptions): Crafting<tf.LayersModel> {
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
  const request = { loss: options.targeted ? ('cw-targeted' as const) : ('cw-untargeted' as const), kappa: options.confidence };
  let trained = false;
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const order = random.permutation(count);
      for (let start = 0; start < count; start += options.batchSize) {
        const indices = order.subarray(start, Math.min(count, start + options.batchSize));
        const n = indices.length;
        const pixels = new Float32Array(n * size);
        indices.forEach((i, k) => pixels.set(images.subarray(i * size, (i + 1) * size), k * size));
        const y = Int32Array.from(indices, (i) => labels[i] as number);
        const adversarialValues = valuesOf(tf.tidy(() => generate(generator, tf.tensor4d(pixels, [n, h, w, c]), options.eps)));
        const { gradient } = yield* lossGradientOf(adversarialValues, y, request);
        tf.tidy(() => {
          const x = tf.tensor4d(pixels, [n, h, w, c]);
          const upstream = tf.tensor4d(gradient, [n, h, w, c]).div(n);
          // The discriminator's step needs G's output only as data: the images already generated.
          const fake = tf.tensor4d(adversarialValues, [n, h, w, c]);
          dOptimizer.minimize(() => {
            const real = discriminator.apply(x) as tf.Tensor;
            const faked = discriminator.apply(fake) as tf.Tensor;
            return real.sub(1).square().mean().add(faked.square().mean()) as tf.Scalar;
          }, false, dVariables);
          gOptimizer.minimize(() => {
            const perturbation = (generator.apply(x) as tf.Tensor4D).mul(options.eps);
            const adversarial = x.add(perturbation).clipByValue(0, 1) as tf.Tensor4D;
            const gan = (discriminator.apply(adversarial) as tf.Tensor).sub(1).square().mean();
            const hinge = perturbation.square().sum([1, 2, 3]).sqrt().sub(options.hingeBound).relu().mean();
            const adv = adversarial.mul(upstream).sum();
            return adv.add(gan.mul(options.alpha)).add(hinge.mul(options.beta)) as tf.Scalar;
          }, false, gVariables);
        });
      }
    }
    trained = true;
    return generator;
  } finally {
    gOptimizer.dispose();
    dOptimizer.dispose();
    discriminator.dispose();
    if (!trained) generator.dispose();
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
