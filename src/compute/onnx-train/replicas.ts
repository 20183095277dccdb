import { Worker } from 'node:worker_threads';
import { TransferbenchError } from '../../common/errors.js';
import { weightGradientName } from './gradients.js';
import type { DropoutMask, TrainingForm } from './training-form.js';
import { writeVariables, type TrainingGraph } from './graph.js';
import { buildTrainingModel, STEP_IO } from './model.js';
import { TypedArrayOptimizer } from './optimizer.js';
import type { FromReplica, ReplicaData, ReplicaStep } from './replica-worker.js';
import type { StepBatch, TrainerOptions } from './trainer.js';

const REPLICA_WORKER = new URL('./replica-worker.js', import.meta.url);

/**
 * The training step split by rows over `threads` replicas, each one onnxruntime session on one
 * thread in its own worker: the loss is a sum over images of weight x loss, so the replicas'
 * gradients add up to the whole batch's. The main thread sums them in replica order (a seeded
 * run repeats bit for bit) and takes the optimiser step on weights in shared memory.
 * onnxruntime's own threads split each node, and the training graph's many small nodes share
 * badly (README, "Training engine"); whole replicas share nothing until the sum. Not for
 * BatchNormalization in training mode, whose statistics are the whole batch's.
 */
export class ReplicaTrainer<F extends TrainingForm = TrainingForm> {
  private readonly optimizer: TypedArrayOptimizer;
  private readonly sum: Float32Array[];
  private failure: Error | undefined;
  private readonly exited = new Set<Worker>();

  private constructor(
    private readonly workers: readonly Worker[],
    private readonly slots: readonly (readonly Float32Array[])[],
    private readonly weights: readonly Float32Array[],
    readonly trainable: F['weights'],
    readonly masks: readonly DropoutMask[],
    private readonly imageSize: number,
    private readonly classes: number,
    options: TrainerOptions,
    private readonly form: F,
  ) {
    this.optimizer = new TypedArrayOptimizer(
      options.optimizer,
      weights.map((w) => w.length),
    );
    this.sum = weights.map((w) => new Float32Array(w.length));
    for (const worker of workers) {
      worker.on('error', (error) => (this.failure ??= error));
      worker.on('exit', () => this.exited.add(worker));
    }
  }

  static async create<F extends TrainingForm>(form: F, options: TrainerOptions): Promise<ReplicaTrainer<F>> {
    if (options.optimizerInGraph)
      throw new TransferbenchError('BAD_OPTION', 'replicas take the optimiser step on typed arrays, not in the graph');
    const built = await buildTrainingModel(form, { loss: options.loss, classes: options.classes });
    if (built.statistics.length > 0)
      throw new TransferbenchError(
        'BAD_MODEL',
        `BatchNormalization in training mode needs the ` + `whole batch's statistics; it trains on one session`,
      );
    const weights = built.weights.map((w) => {
      const values = new Float32Array(new SharedArrayBuffer(4 * w.shape.reduce((a, b) => a * b, 1)));
      values.set(form.initial.get(w.name) as Float32Array);
      return values;
    });
    const imageShape = [...form.imageShape];
    const gradients = Array.from({ length: options.threads }, () =>
      weights.map((w) => new Float32Array(new SharedArrayBuffer(w.byteLength))),
    );
    const workers = gradients.map(
      (slots) =>
        new Worker(REPLICA_WORKER, {
          workerData: {
            bytes: built.bytes,
            weights: built.weights.map((w, k) => ({
              name: w.name,
              shape: w.shape,
              buffer: (weights[k] as Float32Array).buffer as SharedArrayBuffer,
            })),
            gradients: slots.map((g) => g.buffer as SharedArrayBuffer),
            gradientNames: built.weights.map((w) => weightGradientName(w.name)),
            lossName: STEP_IO.loss,
            io: { images: STEP_IO.images, targets: STEP_IO.targets, sampleWeights: STEP_IO.sampleWeights },
            imageShape,
            classes: options.classes,
            masks: built.masks.map((m) => ({ name: m.name, shape: m.shape })),
          } satisfies ReplicaData,
        }),
    );
    try {
      await Promise.all(workers.map((worker) => reply(worker)));
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw error;
    }
    return new ReplicaTrainer<F>(
      workers,
      gradients,
      weights,
      form.weights,
      built.masks,
      imageShape.reduce((a, b) => a * b, 1),
      options.classes,
      options,
      form,
    );
  }

  /** One optimiser step over the replicas; returns the batch's loss before it. */
  async step(batch: StepBatch): Promise<number> {
    const { loss, gradients } = await this.gradients(batch);
    this.optimizer.step(this.weights, gradients);
    return loss;
  }

  /**
   * The batch's weighted loss and d(loss)/d(weight) at the current weights: the replicas' sums (valid until the next
   * call).
   */
  async gradients(batch: StepBatch): Promise<{ loss: number; gradients: readonly Float32Array[] }> {
    if (this.failure) throw this.failure;
    // A replica that has ended would never answer.
    if (this.exited.size > 0)
      throw new TransferbenchError(
        'WORKER_CRASHED',
        `${this.exited.size} of ${this.workers.length} training replicas have ended`,
      );
    const used = Math.min(this.workers.length, batch.count);
    const rows = (r: number) => Math.round((r * batch.count) / used);
    const replies = Array.from({ length: used }, (_, r) => {
      const [from, to] = [rows(r), rows(r + 1)];
      const maskSize = (m: DropoutMask) => m.shape.reduce((a, b) => a * b, 1);
      const step: ReplicaStep = {
        count: to - from,
        // slice, not subarray: a posted view would carry its whole buffer; the slices' own buffers move to the replica.
        images: batch.images.slice(from * this.imageSize, to * this.imageSize),
        targets: batch.targets.slice(from * this.classes, to * this.classes),
        sampleWeights: batch.sampleWeights.slice(from, to),
        masks: this.masks.map((m, i) => (batch.masks[i] as Float32Array).slice(from * maskSize(m), to * maskSize(m))),
      };
      const worker = this.workers[r] as Worker;
      const answer = reply(worker);
      worker.postMessage(
        step,
        [step.images, step.targets, step.sampleWeights, ...step.masks].map((a) => a.buffer as ArrayBuffer),
      );
      return answer;
    });
    const losses = await Promise.all(replies);
    this.sum.forEach((sum, k) => {
      sum.set(this.slots[0]?.[k] as Float32Array);
      for (let r = 1; r < used; r++) {
        const g = this.slots[r]?.[k] as Float32Array;
        for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (g[i] as number);
      }
    });
    return { loss: losses.reduce((a, b) => a + b, 0), gradients: this.sum };
  }

  /** A tfjs model's training form: the current values into its variables (export and save as before). */
  writeBack(): void {
    if ('variables' in this.form) writeVariables((this.form as unknown as TrainingGraph).variables, this.values());
  }

  /** The current weights by initializer name (copies out of shared memory). */
  values(): Map<string, Float32Array> {
    return new Map(this.trainable.map((w, i) => [w.name, Float32Array.from(this.weights[i] as Float32Array)] as const));
  }

  /** Each replica releases its session and ends (a thread ended mid-session can take the process with it). */
  async dispose(): Promise<void> {
    await Promise.all(
      this.workers
        .filter((w) => !this.exited.has(w))
        .map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once('exit', () => resolve());
              w.postMessage('stop');
            }),
        ),
    );
  }
}

/** The next message of a replica: 'ready' or a step's loss; its errors and exit reject. */
function reply(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: FromReplica) => {
      done();
      if (message.type === 'error')
        reject(new TransferbenchError('WORKER_CRASHED', `training replica: ${message.message}`));
      else resolve(message.type === 'done' ? message.loss : 0);
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onExit = (code: number) => {
      done();
      reject(new TransferbenchError('WORKER_CRASHED', `training replica exited with code ${code}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
