import * as ort from 'onnxruntime-node';
import type { ImageNetwork } from '../../compute/network/image-network.js';
import { withInitializers } from '../../compute/network/network.js';
import { weightGradientName } from '../../compute/onnx-train/gradients.js';
import { scalarOutput } from '../../compute/onnx-train/feeds.js';
import { optimizerSettings, TypedArrayOptimizer } from '../../compute/onnx-train/optimizer.js';
import { awaitTask, type Crafting } from '../crafting.js';
import { buildGanModels, GAN_IO, type GanWeight } from './onnx-graphs.js';
import type { GanBatch, GanSteps } from './steps.js';
import type { AdvGanOptions } from './options.js';

/** A network's weights as typed arrays between onnxruntime runs, with its own Adam. */
class Weights {
  readonly values: Float32Array[];
  readonly optimizer: TypedArrayOptimizer;

  constructor(
    readonly trainable: readonly GanWeight[],
    learningRate: number,
  ) {
    this.values = trainable.map((w) => Float32Array.from(w.initial));
    this.optimizer = new TypedArrayOptimizer(
      optimizerSettings('adam', learningRate),
      this.values.map((v) => v.length),
    );
  }

  feed(feeds: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
    this.trainable.forEach(
      (w, i) => (feeds[w.name] = new ort.Tensor('float32', this.values[i] as Float32Array, [...w.shape])),
    );
    return feeds;
  }

  gradients(out: ort.InferenceSession.ReturnType): Float32Array[] {
    return this.trainable.map((w) => out[weightGradientName(w.name)]?.data as Float32Array);
  }

  step(out: ort.InferenceSession.ReturnType): void {
    this.optimizer.step(this.values, this.gradients(out));
  }

  /** The trained values by the network's own initializer names (`prefix` removed). */
  trained(prefix: string): Map<string, Float32Array> {
    return new Map(this.trainable.map((w, i) => [w.name.slice(prefix.length), this.values[i] as Float32Array]));
  }
}

/**
 * The onnxruntime engine for AdvGAN: the generator's forward pass, its step and the
 * discriminator's step are three sessions (onnx-graphs.ts); both networks' weights live in typed
 * arrays with Adam on them (tf.train.adam's settings), and the trained generator is its network
 * with those values as initializers.
 */
export class OnnxGanSteps implements GanSteps {
  private readonly g: Weights;
  private readonly d: Weights;

  private constructor(
    private readonly generator: ImageNetwork,
    private readonly imageShape: readonly [number, number, number],
    private readonly sessions: {
      generate: ort.InferenceSession;
      generatorStep: ort.InferenceSession;
      discriminatorStep: ort.InferenceSession;
    },
    weights: { generator: readonly GanWeight[]; discriminator: readonly GanWeight[] },
    learningRate: number,
  ) {
    this.g = new Weights(weights.generator, learningRate);
    this.d = new Weights(weights.discriminator, learningRate);
  }

  static async create(
    generator: ImageNetwork,
    discriminator: ImageNetwork,
    imageShape: readonly [number, number, number],
    options: AdvGanOptions,
    threads: number,
  ): Promise<OnnxGanSteps> {
    const models = await buildGanModels(generator, discriminator, imageShape, options);
    const open = (bytes: Uint8Array) =>
      ort.InferenceSession.create(bytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
    const sessions = {
      generate: await open(models.generate),
      generatorStep: await open(models.generatorStep),
      discriminatorStep: await open(models.discriminatorStep),
    };
    return new OnnxGanSteps(
      generator,
      imageShape,
      sessions,
      { generator: models.generatorWeights, discriminator: models.discriminatorWeights },
      options.learningRate,
    );
  }

  private images(values: Float32Array, count: number): ort.Tensor {
    return new ort.Tensor('float32', values, [count, ...this.imageShape]);
  }

  *generate(images: Float32Array, count: number): Crafting<Float32Array> {
    const out = yield* awaitTask(() =>
      this.sessions.generate.run(this.g.feed({ [GAN_IO.images]: this.images(images, count) })),
    );
    return out[GAN_IO.adversarial]?.data as Float32Array;
  }

  /** The generator's loss and d(loss)/d(weight) at the current weights (both networks'). */
  async generatorGradients(
    batch: Pick<GanBatch, 'count' | 'images' | 'upstream'>,
  ): Promise<{ loss: number; gradients: Float32Array[] }> {
    const out = await this.runGenerator(batch);
    return { loss: scalarOutput(out, GAN_IO.loss), gradients: this.g.gradients(out) };
  }

  private runGenerator(
    batch: Pick<GanBatch, 'count' | 'images' | 'upstream'>,
  ): Promise<ort.InferenceSession.ReturnType> {
    const feeds = this.d.feed(
      this.g.feed({
        [GAN_IO.images]: this.images(batch.images, batch.count),
        [GAN_IO.upstream]: this.images(batch.upstream, batch.count),
      }),
    );
    return this.sessions.generatorStep.run(feeds);
  }

  /** Real then generated images as one batch of 2n: the loss is a sum over images, so this is tfjs's two means. */
  private discriminatorFeeds(batch: GanBatch): Record<string, ort.Tensor> {
    const n = batch.count;
    const images = new Float32Array(2 * batch.images.length);
    images.set(batch.images);
    images.set(batch.adversarial, batch.images.length);
    const targets = new Float32Array(2 * n).fill(1, 0, n);
    return this.d.feed({
      [GAN_IO.images]: this.images(images, 2 * n),
      [GAN_IO.targets]: new ort.Tensor('float32', targets, [2 * n, 1]),
      [GAN_IO.sampleWeights]: new ort.Tensor('float32', new Float32Array(2 * n).fill(1 / n), [2 * n]),
    });
  }

  /** The discriminator's loss and d(loss)/d(weight) on the batch's real and generated images. */
  async discriminatorGradients(batch: GanBatch): Promise<{ loss: number; gradients: Float32Array[] }> {
    const out = await this.sessions.discriminatorStep.run(this.discriminatorFeeds(batch));
    return { loss: scalarOutput(out, GAN_IO.loss), gradients: this.d.gradients(out) };
  }

  *step(batch: GanBatch): Crafting<void> {
    const dOut = yield* awaitTask(() => this.sessions.discriminatorStep.run(this.discriminatorFeeds(batch)));
    this.d.step(dOut);
    const gOut = yield* awaitTask(() => this.runGenerator(batch));
    this.g.step(gOut);
  }

  *finish(): Crafting<ImageNetwork> {
    return withInitializers(this.generator, this.g.trained('g/'));
  }

  *dispose(): Crafting<void> {
    const sessions = Object.values(this.sessions);
    yield* awaitTask(() => Promise.all(sessions.map((s) => s.release())));
  }
}
