import * as ort from 'onnxruntime-node';
import { weightGradientName } from './gradients.js';
import { updateRunningStatistic, type RunningStatistics } from '../network/normalization.js';
import type { DropoutMask, TrainingForm } from './training-form.js';
import { writeVariables, type TrainingGraph } from './graph.js';
import { scalarOutput, stepFeeds, type StepRows } from './feeds.js';
import { buildTrainingModel, STEP_IO, type TrainingLoss } from './model.js';
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
 * A network trained on onnxruntime: the weights live in typed arrays (or, with the in-graph
 * optimiser, in the previous step's outputs) between steps; `values` gives them, and the running
 * statistics, by initializer name, for the network's graph or a tfjs model's variables.
 */
export class OnnxTrainer<F extends TrainingForm = TrainingForm> {
  private readonly imageShape: readonly number[];
  private weights: Float32Array[];
  private state: Float32Array[][];
  private readonly optimizer: TypedArrayOptimizer | undefined;
  private t = 0;
  /** BatchNormalization's moving mean and variance, in the order of `statistics` (mean, variance). */
  private readonly moving: Float32Array[];

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly trainable: F['weights'],
    readonly masks: readonly DropoutMask[],
    private readonly options: TrainerOptions,
    private readonly form: F,
    private readonly statistics: readonly RunningStatistics[] = [],
  ) {
    const start = (name: string) => Float32Array.from(form.initial.get(name) as Float32Array);
    this.moving = statistics.flatMap((s) => [start(s.mean.name), start(s.variance.name)]);
    this.imageShape = form.imageShape;
    this.weights = trainable.map((w) => start(w.name));
    const sizes = this.weights.map((w) => w.length);
    this.optimizer = options.optimizerInGraph ? undefined : new TypedArrayOptimizer(options.optimizer, sizes);
    this.state = options.optimizerInGraph
      ? stateSlots(options.optimizer).map(() => sizes.map((n) => new Float32Array(n)))
      : [];
  }

  static async create<F extends TrainingForm>(form: F, options: TrainerOptions): Promise<OnnxTrainer<F>> {
    const built = await buildTrainingModel(form, {
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
    return new OnnxTrainer<F>(session, form.weights, built.masks, options, form, built.statistics);
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

  /** A tfjs model's training form: the current values into its variables (export and save as before). */
  writeBack(): void {
    if ('variables' in this.form) writeVariables((this.form as unknown as TrainingGraph).variables, this.values());
  }

  /** The current weights and running statistics by initializer name (copies). */
  values(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    this.trainable.forEach((w, i) => out.set(w.name, Float32Array.from(this.weights[i] as Float32Array)));
    this.statistics.forEach((s, i) => {
      out.set(s.mean.name, Float32Array.from(this.moving[2 * i] as Float32Array));
      out.set(s.variance.name, Float32Array.from(this.moving[2 * i + 1] as Float32Array));
    });
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
