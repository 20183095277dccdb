import { modelFingerprint } from '../../compute/architectures.js';
import { resolveEngine } from '../../compute/engine.js';
import { awaitTask, drive } from '../crafting.js';
import { NON_NEGATIVE, param, POSITIVE, POSITIVE_INTEGER } from '../../common/params.js';
import { defineAttack, type Prepared } from '../types.js';
import { generateAdversarial, GeneratorSession } from './generator.js';
import { buildGenerator, GENERATOR } from './networks.js';
import { generatorOptions, refuseSynchronous, trainGenerator } from './train.js';

export { generatorOptions, trainGenerator, type AdvGanOptions } from './train.js';
export { generateAdversarial, GeneratorSession } from './generator.js';
export { buildDiscriminator, buildGenerator, discriminatorNetwork, generatorNetwork } from './networks.js';

/** What trains generators and what their cache folders must name (train.ts: onnxruntime whatever --engine says). */
const TRAINED_BY = { architecture: GENERATOR, engine: 'onnxruntime' } as const;

const fingerprints = new Map<string, string>();

/** The generator's tfjs definition (its ONNX form's source), hashed once per image shape (caches key on it). */
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

/** A fitted generator's session, what AdvGAN's prepare step hands its craft step. */
class PreparedGenerator implements Prepared {
  constructor(readonly session: GeneratorSession) {}
  dispose(): Promise<void> {
    return this.session.release();
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
    // Generators train on onnxruntime (train.ts), keyed as they were when that was one engine of two,
    // so a folder of an older tfjs generator is found and converted rather than refitted.
    const key = {
      params,
      images: context.training.labels.length,
      networks: networkFingerprint(context.imageShape),
      engine: TRAINED_BY.engine,
    };
    const cached = await context.cache.load(key, TRAINED_BY);
    if (cached !== undefined) return new PreparedGenerator(await GeneratorSession.open(cached));
    const engine = await resolveEngine();
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
    await context.cache.save(key, generator, TRAINED_BY.engine);
    return new PreparedGenerator(await GeneratorSession.open(generator));
  },
  craft: function* (batch, params) {
    yield* refuseSynchronous();
    const count = batch.labels.length;
    const prepared = batch.prepared;
    if (prepared instanceof PreparedGenerator)
      return yield* awaitTask(() => prepared.session.perturb(batch.images, count, params.eps));
    const training = batch.pool ?? { images: batch.images, labels: batch.labels };
    const generator = yield* trainGenerator(
      training.images,
      training.labels,
      batch.imageShape,
      generatorOptions(params),
    );
    return yield* awaitTask(() => generateAdversarial(generator, batch.images, count, params.eps));
  },
});
