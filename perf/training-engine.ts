import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { buildArchitecture } from '../src/compute/architectures.js';
import { optimizerSettings } from '../src/compute/onnx-train/optimizer.js';
import { ReplicaTrainer } from '../src/compute/onnx-train/replicas.js';
import { OnnxTrainer } from '../src/compute/onnx-train/trainer.js';
import { trainingGraph } from '../src/compute/onnx-train/graph.js';
import { trainableVariables, trainStep } from '../src/compute/train.js';
import { exportToOnnx, INPUT_NAME } from '../src/targets/onnx/export.js';
import { measureInterleaved, type Windows } from '../src/common/timing.js';
import { measureThroughput, type Throughput } from './measure.js';
import { valuesOf } from '../src/compute/values.js';

export const TRAINING_MODELS = ['cnn-small', 'model-c'] as const;
const BATCH = 64;

/** One model x threads measurement of the onnxruntime training engine (Adam, batch 64). */
export interface OnnxTrainingResult {
  readonly model: (typeof TRAINING_MODELS)[number];
  readonly threads: number;
  /** Training steps, optimiser on typed arrays after each run, images per second. */
  readonly trainTypedArrays: Throughput;
  /** Training steps, optimiser as graph nodes, images per second. */
  readonly trainInGraph: Throughput;
  /**
   * At more than one thread: the step on that many one-thread replicas (replicas.ts), what the engine runs, images per
   * second.
   */
  readonly trainReplicas?: Throughput;
  /**
   * onnxruntime inference of the same model (exportToOnnx) at the same threads and batch, images per second (the faster
   * of spinning and idle threads).
   */
  readonly forward: Throughput;
  /** Forward passes one training step costs: forward / (faster) train throughput. Goal <= 6. */
  readonly stepInForwardPasses: number;
  /** One-minute load average before and after the interleaved windows (the machine is shared). */
  readonly loadAverage: readonly [number, number];
  /** PyTorch's training step at the same threads, timed just before and just after those windows, images per second. */
  readonly pytorchTrain?: { readonly before: number; readonly after: number; readonly mean: number };
}

/** PyTorch's step for one model at some threads, images per second (undefined without PyTorch). */
export type PytorchTrainStep = (model: (typeof TRAINING_MODELS)[number], threads: number) => number | undefined;

/** The tfjs (wasm) training step of the same models, for the side-by-side. */
export interface TfjsTrainingResult {
  readonly model: (typeof TRAINING_MODELS)[number];
  readonly backend: string;
  readonly train: Throughput;
}

function batchOf(seed: number): { images: Float32Array; targets: Float32Array } {
  const images = valuesOf(tf.tidy(() => tf.randomUniform([BATCH, 28, 28, 1], 0, 1, 'float32', seed)));
  const targets = new Float32Array(BATCH * 10);
  for (let i = 0; i < BATCH; i++) targets[i * 10 + ((i * 7 + seed) % 10)] = 1;
  return { images, targets };
}

/** onnxruntime training at 1 and 2 threads beside onnxruntime inference of the same model, in alternating windows. */
export async function measureOnnxTraining(
  quick: boolean,
  log: (line: string) => void,
  pytorch?: PytorchTrainStep,
): Promise<OnnxTrainingResult[]> {
  const windows: Windows = { repeats: quick ? 3 : 7, windowSeconds: quick ? 0.5 : 1.5, warmup: 3 };
  const { images, targets } = batchOf(1);
  const results: OnnxTrainingResult[] = [];
  for (const name of TRAINING_MODELS) {
    const model = buildArchitecture(name, { imageShape: [28, 28, 1], classes: 10, seed: 0 });
    try {
      for (const threads of [1, 2]) {
        // Inference at its best: with and without spin-waiting threads, the faster counts.
        const inference = (spinning: boolean) =>
          ort.InferenceSession.create(exportToOnnx(model), {
            intraOpNumThreads: threads,
            interOpNumThreads: 1,
            executionMode: 'sequential',
            extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
          });
        const form = await trainingGraph(model);
        const trainer = (optimizerInGraph: boolean) =>
          OnnxTrainer.create(form, {
            loss: 'softmax-cross-entropy',
            classes: 10,
            optimizer: optimizerSettings('adam', 1e-3),
            threads,
            optimizerInGraph,
          });
        const [spinning, idle, typed, inGraph] = [
          await inference(true),
          await inference(false),
          await trainer(false),
          await trainer(true),
        ];
        const replicas =
          threads > 1
            ? await ReplicaTrainer.create(form, {
                loss: 'softmax-cross-entropy',
                classes: 10,
                optimizer: optimizerSettings('adam', 1e-3),
                threads,
                optimizerInGraph: false,
              })
            : undefined;
        try {
          const feeds = { [INPUT_NAME]: new ort.Tensor('float32', images, [BATCH, 28, 28, 1]) };
          const masks = typed.masks.map((m) => new Float32Array(BATCH * m.shape.reduce((a, b) => a * b, 1)).fill(1));
          const batch = {
            count: BATCH,
            images,
            targets,
            sampleWeights: new Float32Array(BATCH).fill(1 / BATCH),
            masks,
          };
          const loadBefore = os.loadavg()[0] as number;
          const torchBefore = pytorch?.(name, threads);
          const measured = await measureInterleaved(
            {
              spinning: () => spinning.run(feeds),
              idle: () => idle.run(feeds),
              typed: () => typed.step(batch),
              inGraph: () => inGraph.step(batch),
              ...(replicas ? { replicas: () => replicas.step(batch) } : {}),
            } as Record<'spinning' | 'idle' | 'typed' | 'inGraph' | 'replicas', () => Promise<unknown>>,
            BATCH,
            windows,
          );
          const torchAfter = pytorch?.(name, threads);
          const forward = measured.spinning.median >= measured.idle.median ? measured.spinning : measured.idle;
          const best = Math.max(
            measured.typed.median,
            measured.inGraph.median,
            replicas ? measured.replicas.median : 0,
          );
          const result = {
            model: name,
            threads,
            trainTypedArrays: measured.typed,
            trainInGraph: measured.inGraph,
            ...(replicas ? { trainReplicas: measured.replicas } : {}),
            forward,
            stepInForwardPasses: forward.median / best,
            loadAverage: [loadBefore, os.loadavg()[0] as number] as const,
            ...(torchBefore !== undefined && torchAfter !== undefined
              ? { pytorchTrain: { before: torchBefore, after: torchAfter, mean: (torchBefore + torchAfter) / 2 } }
              : {}),
          };
          const replicaRate = replicas ? `, ${measured.replicas.median.toFixed(0)} img/s (${threads} replicas)` : '';
          const torchTrain = result.pytorchTrain
            ? `${result.pytorchTrain.before.toFixed(0)} / ${result.pytorchTrain.after.toFixed(0)} img/s before / after`
            : '-';
          log(
            `training engine onnxruntime ${name} ${threads} thread(s): train ` +
              `${measured.typed.median.toFixed(0)} img/s (typed arrays), ${measured.inGraph.median.toFixed(0)} ` +
              `img/s (in graph)${replicaRate}; ` +
              `forward ${forward.median.toFixed(0)} img/s; a step = ${result.stepInForwardPasses.toFixed(1)} ` +
              `forward passes; PyTorch ${torchTrain}; ` +
              `load average ${result.loadAverage.map((l) => l.toFixed(1)).join(' -> ')}`,
          );
          results.push(result);
        } finally {
          await Promise.all([
            spinning.release(),
            idle.release(),
            typed.dispose(),
            inGraph.dispose(),
            replicas?.dispose(),
          ]);
        }
      }
    } finally {
      model.dispose();
    }
  }
  return results;
}

/** The tfjs engine's step on the active backend, same models and batch. */
export function measureTfjsTraining(backend: string, quick: boolean): TfjsTrainingResult[] {
  const windows: Windows = { repeats: quick ? 3 : 5, windowSeconds: quick ? 0.5 : 1.5, warmup: 2 };
  const { images, targets } = batchOf(1);
  return TRAINING_MODELS.map((name) => {
    const model = buildArchitecture(name, { imageShape: [28, 28, 1], classes: 10, seed: 0 });
    const optimizer = tf.train.adam(1e-3);
    const x = tf.tensor4d(images, [BATCH, 28, 28, 1]);
    const y = tf.tensor2d(targets, [BATCH, 10]);
    try {
      const variables = trainableVariables(model);
      return {
        model: name,
        backend,
        train: measureThroughput(
          () => trainStep(model, optimizer, variables, [{ images: x, labels: y }]),
          BATCH,
          windows,
        ),
      };
    } finally {
      tf.dispose([x, y]);
      optimizer.dispose();
      model.dispose();
    }
  });
}
