import * as tf from '@tensorflow/tfjs';
import { TransferbenchError } from '../common/errors.js';
import { runEpochs } from './epochs.js';
import type { OnnxNetwork } from './network/network.js';

/**
 * What a classifier is fitted to: images with either hard labels (ground truth, or a
 * label-only oracle) or soft targets (an oracle's probabilities), one row per image.
 */
export interface TrainingSet {
  /** NHWC float32 in [0, 1]. */
  readonly images: Float32Array;
  readonly imageShape: readonly [number, number, number];
  /** Int32Array of class indices, or Float32Array of count x classes probabilities. */
  readonly targets: Int32Array | Float32Array;
  readonly classes: number;
}

/** Rows of a minibatch as the trainer holds them: NHWC pixels and one-hot (or soft) targets, row-major. */
export interface BatchRows {
  readonly count: number;
  readonly images: Float32Array;
  readonly targets: Float32Array;
}

/**
 * A hook that may replace the clean batch before the step (adversarial training): it sees the
 * network as trained so far and returns weighted parts, whose weights sum to the batch's one.
 */
export type BatchTransform = (
  clean: BatchRows,
  step: number,
  network: OnnxNetwork,
) => Promise<(BatchRows & { readonly weight: number })[]>;

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number;
  /** Adversarial training; the onnxruntime engine's network training only. */
  readonly transform?: BatchTransform;
  readonly onEpoch?: (epoch: number, meanLoss: number) => void;
  /**
   * SGD with momentum and weight decay at `learningRate` instead of Adam (LGV's and SWA's
   * constant-rate epochs); the onnxruntime engine only.
   */
  readonly sgd?: { readonly momentum: number; readonly weightDecay: number };
  /**
   * Collect the weights this many times per epoch, evenly spaced in its minibatches (LGV's 4); the
   * onnxruntime engine only, whose network training returns them as `snapshots`.
   */
  readonly snapshotsPerEpoch?: number;
}

export interface TrainResult {
  readonly steps: number;
  readonly imagesSeen: number;
  readonly seconds: number;
  readonly finalLoss: number;
}

export function countOfSet(set: TrainingSet): number {
  const [h, w, c] = set.imageShape;
  return set.images.length / (h * w * c);
}

/** The rows of a training set at `indices`: pixels and one-hot (or soft) targets, row-major. */
export function batchArrays(
  set: TrainingSet,
  indices: ArrayLike<number>,
): { pixels: Float32Array; targets: Float32Array } {
  const [h, w, c] = set.imageShape;
  const size = h * w * c;
  const pixels = new Float32Array(indices.length * size);
  const targets = new Float32Array(indices.length * set.classes);
  const soft = set.targets instanceof Float32Array;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] as number;
    pixels.set(set.images.subarray(i * size, (i + 1) * size), k * size);
    if (soft) targets.set(set.targets.subarray(i * set.classes, (i + 1) * set.classes), k * set.classes);
    else targets[k * set.classes + (set.targets[i] as number)] = 1;
  }
  return { pixels, targets };
}

/** The rows of a training set at `indices`, as tensors (one-hot or soft targets). */
export function batchTensors(
  set: TrainingSet,
  indices: ArrayLike<number>,
): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  const { pixels, targets } = batchArrays(set, indices);
  return {
    images: tf.tensor4d(pixels, [indices.length, ...set.imageShape]),
    labels: tf.tensor2d(targets, [indices.length, set.classes]),
  };
}

/** The trainable tf.Variables of one model, so an optimiser never touches another model's weights. */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * Minibatch Adam on softmax cross-entropy from logits (per-class detector losses for models
 * whose outputs are log-probabilities), with a seeded shuffle per epoch.
 * Dropout is active (training: true). Every tensor lives inside tidy or is disposed.
 */
export async function trainClassifier(
  model: tf.LayersModel,
  set: TrainingSet,
  options: TrainOptions,
): Promise<TrainResult> {
  const optimizer = tf.train.adam(options.learningRate);
  const variables = trainableVariables(model);
  try {
    if (options.transform)
      throw new TransferbenchError('BAD_OPTION', 'adversarial training runs on the onnxruntime engine');
    return await runEpochs(countOfSet(set), options, (indices) =>
      tf.tidy(() => trainStep(model, optimizer, variables, [batchTensors(set, indices)])),
    );
  } finally {
    optimizer.dispose();
  }
}

/** One optimiser step on one or more weighted parts of a batch; returns the loss. */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  parts: { images: tf.Tensor4D; labels: tf.Tensor2D; weight?: number }[],
): number {
  return tf.tidy(() => {
    const value = optimizer.minimize(() => weightedLoss(model, parts), true, variables);
    return value === null ? 0 : (value.dataSync()[0] as number);
  });
}

/** What a model's outputs are, as its architecture recorded in the model's metadata (saved with it). */
export function outputKindOf(model: tf.LayersModel): 'logits' | 'log-probabilities' {
  const metadata = model.getUserDefinedMetadata() as { outputKind?: string } | undefined;
  return metadata?.outputKind === 'log-probabilities' ? 'log-probabilities' : 'logits';
}

/**
 * Loss of outputs that are per-class log-probabilities (an RBF network's Gaussian bumps): each
 * class is its own detector, -[t log p + (1 - t) log(1 - p)] summed over classes, so a digit
 * lifts its own bump towards 1 and pushes the others towards 0. A softmax cross-entropy would
 * only fix their differences and leave every bump near 0.
 */
function detectorLoss(targets: tf.Tensor2D, logProbabilities: tf.Tensor2D): tf.Scalar {
  const rest = tf.log(tf.maximum(tf.scalar(1e-6), tf.sub(1, tf.exp(logProbabilities))));
  const perImage = targets.mul(logProbabilities).add(tf.sub(1, targets).mul(rest)).sum(1).neg();
  return perImage.mean() as tf.Scalar;
}

/** The training loss of weighted batch parts (dropout active unless `training` is false). */
export function weightedLoss(
  model: tf.LayersModel,
  parts: { images: tf.Tensor4D; labels: tf.Tensor2D; weight?: number }[],
  training = true,
): tf.Scalar {
  const detectors = outputKindOf(model) === 'log-probabilities';
  const losses = parts.map((p) => {
    const logits = model.apply(p.images, { training }) as tf.Tensor2D;
    const loss = detectors ? detectorLoss(p.labels, logits) : tf.losses.softmaxCrossEntropy(p.labels, logits);
    return loss.mul(p.weight ?? 1) as tf.Scalar;
  });
  return (losses.length === 1 ? losses[0] : tf.addN(losses)) as tf.Scalar;
}

/** Logits for many images, computed in batches; returns count x classes. */
export function predictLogits(
  model: tf.LayersModel,
  images: Float32Array,
  imageShape: readonly [number, number, number],
  batchSize = 256,
): Float32Array {
  const [h, w, c] = imageShape;
  const size = h * w * c;
  const count = images.length / size;
  const chunks: Float32Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    // tidy returns the tensor, not its values: tidy walks a returned container looking for
    // tensors, which for a typed array means visiting every element.
    const logits = tf.tidy(
      () => model.predict(tf.tensor4d(images.subarray(start * size, (start + n) * size), [n, h, w, c])) as tf.Tensor,
    );
    try {
      chunks.push(logits.dataSync() as Float32Array);
    } finally {
      logits.dispose();
    }
  }
  const classes = chunks[0] ? chunks[0].length / Math.min(batchSize, count) : 0;
  const out = new Float32Array(count * classes);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Index of the largest value in each row. */
export function argmaxRows(values: Float32Array, columns: number): Int32Array {
  const rows = values.length / columns;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < columns; k++)
      if ((values[r * columns + k] as number) > (values[r * columns + best] as number)) best = k;
    out[r] = best;
  }
  return out;
}

export function accuracy(predicted: Int32Array, labels: Int32Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return labels.length === 0 ? 0 : correct / labels.length;
}
