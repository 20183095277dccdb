import * as tf from '@tensorflow/tfjs';
import { valuesOf } from './values.js';
import { badOption, TransferbenchError } from '../common/errors.js';
import { refuseVariant, type LossGradient, type LossRequest, type Surrogate } from './surrogate.js';

/** A tfjs model as a function: NHWC [0, 1] images to logits (or log-probabilities). */
export type LogitsFunction = (images: tf.Tensor4D) => tf.Tensor2D;

/**
 * A surrogate whose answers are available synchronously: a tfjs model on this thread. Training
 * loops that are synchronous (adversarial training inside `trainClassifier`) craft through it;
 * the async `Surrogate` methods of the same object are these answers wrapped in promises.
 */
export interface SyncSurrogate extends Surrogate {
  logitsSync(images: Float32Array, count: number): Float32Array;
  lossGradientSync(images: Float32Array, labels: Int32Array, request: LossRequest): LossGradient;
  /** d(sum_i upstream_i . logits_i)/d(images): the vector-Jacobian product of the logits (ensembles need it). */
  logitsGradientSync(images: Float32Array, upstream: Float32Array): Float32Array;
}

/** Po+Trip per image (see `SURROGATE_LOSSES`), for target one-hots and the request's true labels. */
function poTrip(logits: tf.Tensor2D, target: tf.Tensor, request: LossRequest): tf.Tensor1D {
  const count = logits.shape[0];
  if (request.trueLabels === undefined || request.trueLabels.length !== count)
    throw new TransferbenchError('BAD_OPTION', `loss po-trip: needs trueLabels, one per image (${count})`);
  const truth = tf.oneHot(tf.tensor1d(request.trueLabels, 'int32'), logits.shape[1]).toFloat();
  const u = logits.div(logits.abs().sum(1, true));
  const v = target.sub(1e-5).clipByValue(0, 1);
  const squared = (a: tf.Tensor) => a.square().sum(1);
  const theta = squared(u.sub(v))
    .mul(2)
    .div(
      tf
        .scalar(1)
        .sub(squared(u))
        .mul(tf.scalar(1).sub(squared(v))),
    );
  const poincare = theta.add(1).acosh();
  const cosine = (a: tf.Tensor) =>
    a
      .mul(logits)
      .sum(1)
      .abs()
      .div(squared(a).mul(squared(logits)).sqrt());
  const triplet = cosine(target).sub(cosine(truth)).add(0.007).clipByValue(0, 2.1);
  return poincare.add(triplet.mul(0.01)) as tf.Tensor1D;
}

/** Per-image loss of logits z (count x classes) against labels; the definitions of `SURROGATE_LOSSES`. */
export function lossOfLogits(logits: tf.Tensor2D, labels: tf.Tensor1D, request: LossRequest): tf.Tensor1D {
  const classes = logits.shape[1];
  if (request.loss === 'cross-entropy') {
    return tf.losses.softmaxCrossEntropy(
      tf.oneHot(labels, classes),
      logits,
      undefined,
      0,
      tf.Reduction.NONE,
    ) as tf.Tensor1D;
  }
  const oneHot = tf.oneHot(labels, classes).toFloat();
  if (request.loss === 'logit') return logits.mul(oneHot).sum(1).neg() as tf.Tensor1D;
  if (request.loss === 'po-trip') return poTrip(logits, oneHot, request);
  const kappa = request.kappa ?? 0;
  const labelLogit = logits.mul(oneHot).sum(1);
  const bestOther = logits.sub(oneHot.mul(1e9)).max(1);
  const margin = request.loss === 'cw-untargeted' ? labelLogit.sub(bestOther) : bestOther.sub(labelLogit);
  // max(margin, -kappa) written as relu(margin + kappa) - kappa: the clamp wins ties (gradient 0).
  return margin.add(kappa).relu().sub(kappa) as tf.Tensor1D;
}

/**
 * Images per tfjs call; larger calls are split. tf.grad keeps every activation of a call alive
 * at once, and the wasm backend's heap never shrinks: one 2,400-image call (Admix's 15 copies of
 * 160 digits through cnn-small) left 2.3 GB behind in each worker thread, 128 images 136 MB.
 * Each image's answer is its own, so the split changes no bit (a test checks).
 */
export const TFJS_SURROGATE_BATCH = 128;

/**
 * A tfjs model behind the `Surrogate` interface: losses and input gradients by tf.grad, every
 * tensor inside tf.tidy, nothing kept between calls, at most `batchSize` images per call. The
 * model is borrowed: `dispose` runs the `release` callback given (a substitute's owner disposes
 * it), nothing else.
 */
export class TfjsSurrogate implements SyncSurrogate {
  constructor(
    readonly name: string,
    private readonly model: LogitsFunction,
    readonly imageShape: readonly [number, number, number],
    readonly classes: number,
    private readonly release: () => void = () => undefined,
    readonly batchSize: number = TFJS_SURROGATE_BATCH,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw badOption('batchSize', batchSize, 'an integer >= 1');
  }

  /**
   * A tf.LayersModel (inference mode: dropout off) as a surrogate; disposing the surrogate runs `release` (by default,
   * leaves the model alone).
   */
  static fromLayersModel(name: string, model: tf.LayersModel, release?: () => void, batchSize?: number): TfjsSurrogate {
    const input = model.inputs[0]?.shape;
    const output = model.outputs[0]?.shape;
    const [h, w, c] = [input?.[1], input?.[2], input?.[3]];
    const classes = output?.[1];
    if (typeof h !== 'number' || typeof w !== 'number' || typeof c !== 'number' || typeof classes !== 'number') {
      throw new TransferbenchError(
        'BAD_MODEL',
        `${name}: a surrogate needs an NHWC image input and a [batch, ` +
          `classes] output, got ${JSON.stringify(input)} -> ${JSON.stringify(output)}`,
      );
    }
    return new TfjsSurrogate(
      name,
      (x) => model.apply(x, { training: false }) as tf.Tensor2D,
      [h, w, c],
      classes,
      release,
      batchSize,
    );
  }

  private get imageSize(): number {
    return this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
  }

  private checkImages(images: Float32Array, count: number): void {
    const size = this.imageSize;
    if (images.length !== count * size) {
      throw new TransferbenchError(
        'BAD_OPTION',
        `${this.name}: got ${images.length} pixel values for ${count} ` +
          `image(s) of shape ${this.imageShape.join('x')} (${count * size} ` +
          `expected)`,
      );
    }
  }

  private tensor(images: Float32Array, count: number): tf.Tensor4D {
    this.checkImages(images, count);
    return tf.tensor4d(images, [count, ...this.imageShape]);
  }

  /**
   * `compute` on slices of at most batchSize images (`start`, `n`), each output concatenated
   * over the slices; `perImage[i]` is how many values output i has per image.
   */
  private inBatches(
    count: number,
    perImage: readonly number[],
    compute: (start: number, n: number) => readonly Float32Array[],
  ): Float32Array[] {
    if (count <= this.batchSize) return [...compute(0, count)];
    const outputs = perImage.map((values) => new Float32Array(count * values));
    for (let start = 0; start < count; start += this.batchSize) {
      const n = Math.min(this.batchSize, count - start);
      compute(start, n).forEach((part, i) => outputs[i]?.set(part, start * (perImage[i] as number)));
    }
    return outputs;
  }

  logitsSync(images: Float32Array, count: number): Float32Array {
    this.checkImages(images, count);
    const size = this.imageSize;
    const [logits] = this.inBatches(count, [this.classes], (start, n) => [
      valuesOf(tf.tidy(() => this.model(this.tensor(images.subarray(start * size, (start + n) * size), n)))),
    ]);
    return logits as Float32Array;
  }

  lossGradientSync(images: Float32Array, labels: Int32Array, request: LossRequest): LossGradient {
    const count = labels.length;
    refuseVariant(
      this.name,
      request,
      'it is a tfjs model without an ONNX graph to rewrite (train it as an ONNX network)',
    );
    this.checkImages(images, count);
    const size = this.imageSize;
    const [logits, loss, gradient] = this.inBatches(count, [this.classes, 1, size], (start, n) => {
      const part = this.lossGradientOnce(
        images.subarray(start * size, (start + n) * size),
        labels.subarray(start, start + n),
        request.trueLabels ? { ...request, trueLabels: request.trueLabels.subarray(start, start + n) } : request,
      );
      return [part.logits, part.loss, part.gradient];
    });
    return { logits: logits as Float32Array, loss: loss as Float32Array, gradient: gradient as Float32Array };
  }

  private lossGradientOnce(images: Float32Array, labels: Int32Array, request: LossRequest): LossGradient {
    // Kept tensors outlive every tidy scope: released in `finally`.
    const kept: tf.Tensor[] = [];
    try {
      const gradient = valuesOf(
        tf.tidy(() => {
          const x = this.tensor(images, labels.length);
          const y = tf.tensor1d(labels, 'int32');
          // The sum of per-image losses: each image's gradient is its own, whatever the batch.
          return tf.grad((input: tf.Tensor) => {
            const logits = tf.keep(this.model(input as tf.Tensor4D));
            const loss = tf.keep(lossOfLogits(logits, y, request));
            kept.push(logits, loss);
            return loss.sum();
          })(x);
        }),
      );
      const [logits, loss] = kept as [tf.Tensor2D, tf.Tensor1D];
      return { logits: logits.dataSync() as Float32Array, loss: loss.dataSync() as Float32Array, gradient };
    } finally {
      tf.dispose(kept);
    }
  }

  logitsGradientSync(images: Float32Array, upstream: Float32Array): Float32Array {
    const count = upstream.length / this.classes;
    this.checkImages(images, count);
    const size = this.imageSize;
    const classes = this.classes;
    const [gradient] = this.inBatches(count, [size], (start, n) => [
      valuesOf(
        tf.tidy(() => {
          const dy = tf.tensor2d(upstream.subarray(start * classes, (start + n) * classes), [n, classes]);
          return tf.grad((input: tf.Tensor) =>
            this.model(input as tf.Tensor4D)
              .mul(dy)
              .sum(),
          )(this.tensor(images.subarray(start * size, (start + n) * size), n));
        }),
      ),
    ]);
    return gradient as Float32Array;
  }

  logits(images: Float32Array, count: number): Promise<Float32Array> {
    return Promise.resolve().then(() => this.logitsSync(images, count));
  }

  lossGradient(images: Float32Array, labels: Int32Array, request: LossRequest): Promise<LossGradient> {
    return Promise.resolve().then(() => this.lossGradientSync(images, labels, request));
  }

  logitsGradient(images: Float32Array, upstream: Float32Array): Promise<Float32Array> {
    return Promise.resolve().then(() => this.logitsGradientSync(images, upstream));
  }

  dispose(): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}
