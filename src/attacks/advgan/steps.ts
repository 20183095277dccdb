import * as tf from '@tensorflow/tfjs';
import type { ImageNetwork } from '../../compute/network/image-network.js';
import type { Crafting } from '../crafting.js';
import type { AdvGanOptions } from './options.js';

/** One batch's data for a training step: n clean images, the generated ones and d(L_adv)/d(generated) / n. */
export interface GanBatch {
  readonly count: number;
  readonly images: Float32Array;
  readonly adversarial: Float32Array;
  readonly upstream: Float32Array;
}

/**
 * Where AdvGAN's networks train (onnx-steps.ts, on onnxruntime): the generated images of a batch,
 * one discriminator step then one generator step on it, and the trained generator as an ONNX
 * network (which crafting and the cache use). Crafting computations, so the steps can await
 * their sessions (awaitTask). The tfjs functions below define the same objective on the tfjs
 * definitions (networks.ts): the gradient tests' independent reference.
 */
export interface GanSteps {
  generate(images: Float32Array, count: number): Crafting<Float32Array>;
  step(batch: GanBatch): Crafting<void>;
  /** The trained generator. */
  finish(): Crafting<ImageNetwork>;
  /** Releases the sessions. */
  dispose(): Crafting<void>;
}

/** Perturbed images: clip(x + eps * G(x)). */
export function generate(generator: tf.LayersModel, images: tf.Tensor4D, eps: number): tf.Tensor4D {
  return tf.tidy(() => images.add((generator.apply(images) as tf.Tensor4D).mul(eps)).clipByValue(0, 1) as tf.Tensor4D);
}

/** The least-squares GAN discriminator loss: mean (D(real) - 1)^2 + mean D(generated)^2. */
export function discriminatorLoss(discriminator: tf.LayersModel, real: tf.Tensor4D, generated: tf.Tensor4D): tf.Scalar {
  const realScores = discriminator.apply(real) as tf.Tensor;
  const generatedScores = discriminator.apply(generated) as tf.Tensor;
  return realScores.sub(1).square().mean().add(generatedScores.square().mean()) as tf.Scalar;
}

/**
 * The generator's loss L = L_adv + alpha L_GAN + beta L_hinge, with L_adv as the linear term
 * sum(adversarial * upstream) whose gradient is the surrogate's (upstream = d(L_adv)/d(adversarial)).
 */
export function generatorLoss(
  generator: tf.LayersModel,
  discriminator: tf.LayersModel,
  images: tf.Tensor4D,
  upstream: tf.Tensor4D,
  options: AdvGanOptions,
): tf.Scalar {
  const perturbation = (generator.apply(images) as tf.Tensor4D).mul(options.eps);
  const adversarial = images.add(perturbation).clipByValue(0, 1) as tf.Tensor4D;
  const gan = (discriminator.apply(adversarial) as tf.Tensor).sub(1).square().mean();
  const hinge = perturbation.square().sum([1, 2, 3]).sqrt().sub(options.hingeBound).relu().mean();
  const adv = adversarial.mul(upstream).sum();
  return adv.add(gan.mul(options.alpha)).add(hinge.mul(options.beta)) as tf.Scalar;
}
