import * as tf from '@tensorflow/tfjs';
import { modelFingerprint } from '../../compute/architectures.js';
import { resolveEngine } from '../../compute/engine.js';
import { drive } from '../crafting.js';
import { NON_NEGATIVE, param, POSITIVE, POSITIVE_INTEGER } from '../../common/params.js';
import { defineAttack, type Prepared } from '../types.js';
import { buildGenerator } from './networks.js';
import { generate, generatorOptions, trainGenerator } from './train.js';
import { valuesOf } from '../../compute/values.js';

export { generate, generatorOptions, trainGenerator, type AdvGanOptions } from './train.js';
export { buildDiscriminator, buildGenerator } from './networks.js';

const fingerprints = new Map<string, string>();

/** The generator's network definition, hashed once per image shape (caches key on it). */
function networkFingerprint(imageShape: readonly [number, number, number]): string {
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
}

/** A fitted generator, what AdvGAN's prepare step hands its craft step. */
class PreparedGenerator implements Prepared {
  constructor(readonly generator: tf.LayersModel) {}
  dispose(): void {
    this.generator.dispose();
  }
}

/**
 * AdvGAN (Xiao et al. 1801.02610) as an attack on a surrogate: its prepare step fits a generator
 * against the surrogate on the attacker's images (or loads it from the runner's cache), then
 * crafting perturbs each chunk in one forward pass. Without a prepare step it fits the attacked
 * batch itself (transductively). Semi-white-box when the surrogate is the target's own weights;
 * black-box by static or dynamic distillation when it is such a substitute.
 */
export const advgan = defineAttack({
  name: 'advgan',
  kind: 'generative',
  description:
    'AdvGAN: a generator trained against the substitute (L_adv + ' +
    'alpha L_GAN + beta L_hinge), one forward pass per image (Xiao ' +
    'et al. 1801.02610)',
  usesLabels: true,
  parameters: [
    param({ name: 'epochs', range: POSITIVE_INTEGER, description: 'generator training epochs', default: 10 }),
    param({
      name: 'trainImages',
      range: POSITIVE_INTEGER,
      description:
        'AdvGAN: attacker images the generator trains on (the first N of the attacker split, at most all of it)',
      default: 2000,
    }),
    param({ name: 'learningRate', range: POSITIVE, description: 'Adam learning rate of G and D', default: 0.001 }),
    param({ name: 'alpha', range: NON_NEGATIVE, description: 'weight of the least-squares GAN loss', default: 1 }),
    param({ name: 'beta', range: NON_NEGATIVE, description: 'weight of the hinge loss', default: 1 }),
    param({ name: 'hingeBound', range: NON_NEGATIVE, description: 'c: the hinge bound on ||G(x)||_2', default: 3 }),
    param({ name: 'confidence', range: NON_NEGATIVE, description: 'C&W margin kappa of L_adv', default: 0 }),
  ],
  transformable: false,
  fingerprint: networkFingerprint,
  prepare: async (surrogate, context, params) => {
    // Generators train on onnxruntime (train.ts), keyed as they were when that was one engine of two.
    const engine = await resolveEngine();
    const key = {
      params,
      images: context.training.labels.length,
      networks: networkFingerprint(context.imageShape),
      engine: 'onnxruntime',
    };
    const cached = await context.cache.load(key);
    if (cached !== undefined) return new PreparedGenerator(cached);
    const generator = await drive(
      surrogate,
      trainGenerator(
        context.training.images,
        context.training.labels,
        context.imageShape,
        generatorOptions(params),
        engine,
      ),
    );
    try {
      await context.cache.save(key, generator);
    } catch (error) {
      generator.dispose();
      throw error;
    }
    return new PreparedGenerator(generator);
  },
  craft: function* (batch, params) {
    const shape: [number, number, number, number] = [batch.labels.length, ...batch.imageShape];
    const perturb = (generator: tf.LayersModel) =>
      valuesOf(tf.tidy(() => generate(generator, tf.tensor4d(batch.images, shape), params.eps)));
    if (batch.prepared instanceof PreparedGenerator) return perturb(batch.prepared.generator);
    const training = batch.pool ?? { images: batch.images, labels: batch.labels };
    const generator = yield* trainGenerator(
      training.images,
      training.labels,
      batch.imageShape,
      generatorOptions(params),
    );
    try {
      return perturb(generator);
    } finally {
      generator.dispose();
    }
  },
});
