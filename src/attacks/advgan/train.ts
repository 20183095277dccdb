import { TransferbenchError } from '../../common/errors.js';
import { Random } from '../../common/random.js';
import { currentEngineInfo, type EngineInfo } from '../../compute/engine.js';
import type { ImageNetwork } from '../../compute/network/image-network.js';
import { awaitTask, canAwait, lossGradientOf, type Crafting } from '../crafting.js';
import { discriminatorNetwork, generatorNetwork } from './networks.js';
import { OnnxGanSteps } from './onnx-steps.js';
import type { AdvGanOptions } from './options.js';
import type { GanSteps } from './steps.js';

export type { AdvGanOptions } from './options.js';

/** Training and generation both await onnxruntime, which a synchronous crafting loop (driveSync) cannot. */
export function* refuseSynchronous(): Crafting<void> {
  if (!(yield* canAwait()))
    throw new TransferbenchError(
      'BAD_OPTION',
      'AdvGAN runs its networks on onnxruntime, which a synchronous crafting loop cannot await; ' +
        'craft it with craftAdversarial, not craftAdversarialSync',
    );
}

/**
 * Trains AdvGAN's generator against a surrogate (the paper's L = L_adv + alpha L_GAN + beta
 * L_hinge), alternating a discriminator step and a generator step per batch. L_adv is the
 * surrogate's C&W margin, averaged over the batch: the surrogate gives its gradient with respect
 * to the adversarial images, and that gradient enters the generator's backward pass as the
 * upstream gradient of those images (a vector-Jacobian product through the generator), through
 * the linear term sum(adversarial * upstream) whose gradient it is. The networks train on
 * onnxruntime (onnx-steps.ts, `engine.threads` intra-op threads), whatever --engine says: both
 * are ONNX networks (networks.ts), and the trained generator comes back as one.
 */
export function* trainGenerator(
  images: Float32Array,
  labels: Int32Array,
  imageShape: readonly [number, number, number],
  options: AdvGanOptions,
  engine: EngineInfo = currentEngineInfo(),
): Crafting<ImageNetwork> {
  const [h, w, c] = imageShape;
  const size = h * w * c;
  const count = labels.length;
  let steps: GanSteps | undefined;
  const random = new Random(options.seed).fork('advgan-train');
  const request = {
    loss: options.targeted ? ('cw-targeted' as const) : ('cw-untargeted' as const),
    kappa: options.confidence,
  };
  try {
    yield* refuseSynchronous();
    const generator = generatorNetwork(imageShape, options.seed);
    const discriminator = discriminatorNetwork(imageShape, options.seed);
    steps = yield* awaitTask(() =>
      OnnxGanSteps.create(generator, discriminator, imageShape, options, engine.threads ?? 1),
    );
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const order = random.permutation(count);
      for (let start = 0; start < count; start += options.batchSize) {
        const indices = order.subarray(start, Math.min(count, start + options.batchSize));
        const n = indices.length;
        const pixels = new Float32Array(n * size);
        indices.forEach((i, k) => pixels.set(images.subarray(i * size, (i + 1) * size), k * size));
        const y = Int32Array.from(indices, (i) => labels[i] as number);
        const adversarial = yield* steps.generate(pixels, n);
        const { gradient } = yield* lossGradientOf(adversarial, y, request);
        yield* steps.step({
          count: n,
          images: pixels,
          adversarial,
          upstream: Float32Array.from(gradient, (g) => g / n),
        });
      }
    }
    return yield* steps.finish();
  } finally {
    if (steps) yield* steps.dispose();
  }
}

/** The generator's training options from resolved attack parameters. */
export function generatorOptions(params: Omit<AdvGanOptions, 'batchSize'>): AdvGanOptions {
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
