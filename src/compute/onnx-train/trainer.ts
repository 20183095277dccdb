import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { weightGradientName } from './gradients.js';
import type { DropoutMask, TrainableWeight } from './graph.js';
import { scalarOutput, stepFeeds, type StepRows } from './feeds.js';
import { buildTrainingModel, STEP_IO, type TrainingLoss } from './model.js';
import { updateRunningStatistic, type RunningStatistics } from './normalization.js';
import {
  CORRECTION_IO,
  nextName,
  stateName,
  stateSlots,
  TypedArrayOptimizer,
  type OptimizerSettings,
} from './optimizer.js';

/**
 * One step's data: `count` images (NHWC), their targets, each image's weight in the loss (1 /
 * count for the batch mean), and one mask per Dropout layer (count x the mask's shape), 0 or
 * 1 / (1 - rate); all ones to disable.
 */
export type StepBatch = StepRows;

export interface TrainerOptions {
  readonly loss: TrainingLoss;
  readonly classes: number;
  readonly optimizer: OptimizerSettings;
  /** onnxruntime intra-op threads. */
  readonly threads: number;
  /** The optimiser step as graph nodes (true) or on typed arrays after the run (false). */
  readonly optimizerInGraph: boolean;
}

/**
 * A tfjs Sequential classifier trained on onnxruntime: the weights live in typed arrays (or, with
 * the in-graph optimiser, in the previous step's outputs) between steps, and go back into the
 * tfjs variables on `writeBack`, so the model exports and saves as before.
 */
export class OnnxTrainer {
  private readonly imageShape: readonly number[];
  private weights: Float32Array[];
  private state: Float32Array[][];
  private readonly optimizer: TypedArrayOptimizer | undefined;
  private t = 0;
  /** BatchNormalization's moving mean and variance, in the order of `statistics` (mean, variance). */
  private readonly moving: Float32Array[];

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly trainable: readonly TrainableWeight[],
    readonly masks: readonly DropoutMask[],
    private readonly options: TrainerOptions,
    model: tf.Sequential,
    private readonly statistics: readonly RunningStatistics[] = [],
  ) {
    this.moving = statistics.flatMap((s) =>
      [s.mean, s.variance].map((m) => Float32Array.from(m.variable.read().dataSync() as Float32Array)),
    );
    this.imageShape = (model.inputs[0]?.shape ?? []).slice(1) as number[];
    this.weights = trainable.map((w) => Float32Array.from(w.variable.read().dataSync() as Float32Array));
    const sizes = this.weights.map((w) => w.length);
    this.optimizer = options.optimizerInGraph ? undefined : new TypedArrayOptimizer(options.optimizer, sizes);
    this.state = options.optimizerInGraph
      ? stateSlots(options.optimizer).map(() => sizes.map((n) => new Float32Array(n)))
      : [];
  }

  static async create(model: tf.Sequential, options: TrainerOptions): Promise<OnnxTrainer> {
    const built = await buildTrainingModel(model, {
      loss: options.loss,
      classes: options.classes,
      ...(options.optimizerInGraph ? { optimizer: options.optimizer } : {}),
    });
    const session = await ort.InferenceSession.create(built.bytes, {
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Idle threads spin-waiting cost more than they save on a graph of many short nodes (the
      // gradient builder measured this first; README, "Gradients through any ONNX model").
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    return new OnnxTrainer(session, built.weights, built.masks, options, model, built.statistics);
  }

  private feeds(batch: StepBatch): Record<string, ort.Tensor> {
    return stepFeeds(
      STEP_IO,
      batch,
      { imageShape: this.imageShape, classes: this.options.classes, masks: this.masks, weights: this.trainable },
      this.weights,
    );
  }

  /**
   * The weighted loss and d(loss)/d(weight) at the current weights (typed-array optimiser only); BatchNormalization's
   * running statistics move, as in tfjs's training-mode forward pass.
   */
  async gradients(batch: StepBatch): Promise<{ loss: number; gradients: Float32Array[] }> {
    if (this.options.optimizerInGraph)
      throw new Error('OnnxTrainer.gradients: the in-graph optimiser model outputs updated weights, not gradients');
    const out = await this.run(this.feeds(batch));
    return {
      loss: scalarOutput(out, STEP_IO.loss),
      gradients: this.trainable.map((w) => out[weightGradientName(w.name)]?.data as Float32Array),
    };
  }

  /** One optimiser step; returns the batch's loss before it. */
  async step(batch: StepBatch): Promise<number> {
    if (this.optimizer) {
      const { loss, gradients } = await this.gradients(batch);
      this.optimizer.step(this.weights, gradients);
      return loss;
    }
    this.t++;
    const feeds = this.feeds(batch);
    const s = this.options.optimizer;
    if (s.kind === 'adam') {
      feeds[CORRECTION_IO.first] = new ort.Tensor('float32', Float32Array.of(1 - s.beta1 ** this.t), []);
      feeds[CORRECTION_IO.second] = new ort.Tensor('float32', Float32Array.of(1 - s.beta2 ** this.t), []);
    }
    const slots = stateSlots(s);
    slots.forEach((slot, k) =>
      this.trainable.forEach(
        (w, i) =>
          (feeds[stateName(slot, w.name)] = new ort.Tensor('float32', this.state[k]?.[i] as Float32Array, [
            ...w.shape,
          ])),
      ),
    );
    const out = await this.run(feeds);
    const read = (name: string) => out[nextName(name)]?.data as Float32Array;
    this.weights = this.trainable.map((w) => read(w.name));
    this.state = slots.map((slot) => this.trainable.map((w) => read(stateName(slot, w.name))));
    return scalarOutput(out, STEP_IO.loss);
  }

  /** A training run; BatchNormalization's moving statistics follow the batch's, as in tfjs. */
  private async run(feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    const out = await this.session.run(feeds);
    this.statistics.forEach((s, i) => {
      updateRunningStatistic(this.moving[2 * i] as Float32Array, out[s.mean.output]?.data as Float32Array, s.momentum);
      updateRunningStatistic(
        this.moving[2 * i + 1] as Float32Array,
        out[s.variance.output]?.data as Float32Array,
        s.momentum,
      );
    });
    return out;
  }

  /** Copies the current weights (and running statistics) into the tfjs model's variables. */
  writeBack(): void {
    this.statistics.forEach((s, i) => {
      [s.mean, s.variance].forEach((m, k) => {
        tf.tidy(() => {
          m.variable.write(tf.tensor(this.moving[2 * i + k] as Float32Array, m.variable.shape as number[]));
        });
      });
    });
    writeWeights(this.trainable, this.weights);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Weights kept as typed arrays between onnxruntime runs, written into their tfjs variables. */
export function writeWeights(trainable: readonly TrainableWeight[], values: readonly Float32Array[]): void {
  trainable.forEach((w, i) => {
    tf.tidy(() => {
      w.variable.write(tf.tensor(values[i] as Float32Array, [...w.shape]));
    });
  });
}
