import * as tf from '@tensorflow/tfjs';
import { measureInterleaved } from '../common/timing.js';
import { buildArchitecture } from './architectures.js';
import { optimizerSettings } from './onnx-train/optimizer.js';
import { ReplicaTrainer } from './onnx-train/replicas.js';
import { trainingGraph } from './onnx-train/graph.js';
import { splitsIntoReplicas } from './onnx-train/train.js';
import { OnnxTrainer } from './onnx-train/trainer.js';
import { trainableVariables, trainStep } from './train.js';

/** What `--engine auto` measured: each engine's Adam step on the same model and batch. */
export interface EngineMeasurement {
  /** The architecture timed (the registry's name) and its input shape. */
  readonly model: string;
  readonly imageShape: readonly [number, number, number];
  readonly batch: number;
  /** Median images per second of each engine's training step (tfjs on the active backend). */
  readonly imagesPerSecond: { readonly tfjs: number; readonly onnxruntime: number };
  readonly backend: string;
}

export interface MeasureOptions {
  readonly model?: string;
  readonly imageShape?: readonly [number, number, number];
  readonly classes?: number;
  readonly batch?: number;
  /** onnxruntime intra-op threads, as training would use them. */
  readonly threads: number;
  /** Timed windows per engine, alternating, and each window's length. */
  readonly windows?: number;
  readonly windowSeconds?: number;
}

/**
 * Times the small CNN's Adam step (batch 64) on both engines in alternating windows after a
 * warm-up, so that a machine shared with other jobs loads both alike: the choice `--engine auto`
 * makes rests on this, on the machine and backend it will train on. The two steps are the ones
 * training runs (tfjs's `trainStep`; onnxruntime's step, on replicas above one thread); the weights are fresh
 * and their values do not matter to the time.
 */
export async function measureEngines(options: MeasureOptions): Promise<EngineMeasurement> {
  const name = options.model ?? 'cnn-small';
  const imageShape = options.imageShape ?? [28, 28, 1];
  const classes = options.classes ?? 10;
  const batch = options.batch ?? 64;
  const size = imageShape[0] * imageShape[1] * imageShape[2];
  const images = new Float32Array(batch * size);
  for (let i = 0; i < images.length; i++) images[i] = ((i * 2654435761) % 1000) / 1000;
  const targets = new Float32Array(batch * classes);
  for (let i = 0; i < batch; i++) targets[i * classes + (i % classes)] = 1;

  const tfjsModel = buildArchitecture(name, { imageShape, classes, seed: 0 });
  const onnxModel = buildArchitecture(name, { imageShape, classes, seed: 0 });
  const optimizer = tf.train.adam(1e-3);
  const x = tf.tensor4d(images, [batch, ...imageShape]);
  const y = tf.tensor2d(targets, [batch, classes]);
  const settings = {
    loss: 'softmax-cross-entropy' as const,
    classes,
    optimizer: optimizerSettings('adam', 1e-3),
    threads: options.threads,
    optimizerInGraph: false,
  };
  // What training at these threads runs: one session, or one-thread replicas (onnx-train/train.ts).
  const form = await trainingGraph(onnxModel);
  const trainer = splitsIntoReplicas(form, settings)
    ? await ReplicaTrainer.create(form, settings)
    : await OnnxTrainer.create(form, settings);
  try {
    const variables = trainableVariables(tfjsModel);
    const masks = trainer.masks.map((m) => new Float32Array(batch * m.shape.reduce((a, b) => a * b, 1)).fill(1));
    const stepBatch = { count: batch, images, targets, sampleWeights: new Float32Array(batch).fill(1 / batch), masks };
    const steps = {
      tfjs: async () => void trainStep(tfjsModel, optimizer, variables, [{ images: x, labels: y }]),
      onnxruntime: async () => void (await trainer.step(stepBatch)),
    };
    const timed = await measureInterleaved(steps, batch, {
      repeats: options.windows ?? 3,
      windowSeconds: options.windowSeconds ?? 0.5,
      warmup: 2,
    });
    return {
      model: name,
      imageShape,
      batch,
      imagesPerSecond: { tfjs: timed.tfjs.median, onnxruntime: timed.onnxruntime.median },
      backend: tf.getBackend(),
    };
  } finally {
    await trainer.dispose();
    tf.dispose([x, y]);
    optimizer.dispose();
    tfjsModel.dispose();
    onnxModel.dispose();
  }
}

/** The faster engine of a measurement; a tie keeps onnxruntime (its threads are the ones we set). */
export function fasterEngine(measured: EngineMeasurement): 'tfjs' | 'onnxruntime' {
  return measured.imagesPerSecond.tfjs > measured.imagesPerSecond.onnxruntime ? 'tfjs' : 'onnxruntime';
}
