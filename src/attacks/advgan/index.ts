import * as tf from '@tensorflow/tfjs';
import type { Attack } from '../types.js';
import { modelFingerprint } from '../../compute/architectures.js';
import { buildGenerator } from './networks.js';
import { generate, generatorOptions, trainGenerator } from './train.js';

export { generate, generatorOptions, trainGenerator, type AdvGanOptions } from './train.js';
export { obtainGenerator } from './cache.js';
export { buildDiscriminator, buildGenerator } from './networks.js';

const fingerprints = new Map<string, string>();

/**
 * AdvGAN (Xiao et al. 1801.02610) as an attack on a differentiable model: fits a generator
 * against it (on the attacker's training images when given, otherwise on the attacked batch),
 * then perturbs the batch in one forward pass. Semi-white-box when the model is the target's own
 * weights; black-box by static or dynamic distillation when it is such a substitute.
 */
export const advgan: Attack = {
  name: 'advgan',
  kind: 'generative',
  description: 'AdvGAN: a generator trained against the substitute (L_adv + alpha L_GAN + beta L_hinge), one forward pass per image (Xiao et al. 1801.02610)',
  usesLabels: true,
  parameters: [
    { name: 'epochs', default: '10', description: 'generator training epochs' },
    { name: 'learningRate', default: '0.001', description: 'Adam learning rate of G and D' },
    { name: 'alpha', default: '1', description: 'weight of the least-squares GAN loss' },
    { name: 'beta', default: '1', description: 'weight of the hinge loss' },
    { name: 'hingeBound', default: '3', description: 'c: the hinge bound on ||G(x)||_2' },
    { name: 'confidence', default: '0', description: 'C&W margin kappa of L_adv' },
  ],
  defaults: () => ({ learningRate: 0.001 }),
  fingerprint: (imageShape) => {
    // Asked once per cell and substitute key: build the generator once per image shape.
    const key = imageShape.join('x');
    let hash = fingerprints.get(key);
    if (hash === undefined) {
      const generator = buildGenerator(imageShape, 0);
      try {
        hash = modelFingerprint(generator);
      } finally {
        generator.dispose();
      }
      fingerprints.set(key, hash);
    }
    return hash;
  },
  craft: (model, batch, params) => {
    if (batch.generator) {
      const generator = batch.generator;
      return tf.tidy(() => generate(generator, batch.images, params.eps));
    }
    const [, h, w, c] = batch.images.shape;
    const training = batch.training ?? { images: batch.images.dataSync() as Float32Array, labels: batch.labels.dataSync() as Int32Array };
    const generator = trainGenerator(model, training.images, training.labels, [h, w, c], generatorOptions(params));
    try {
      return tf.tidy(() => generate(generator, batch.images, params.eps));
    } finally {
      generator.dispose();
    }
  },
};
