import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { buildArchitecture } from '../../compute/architectures.js';
import { optimizerSettings } from '../../compute/onnx-train/optimizer.js';
import { OnnxTrainer } from '../../compute/onnx-train/trainer.js';
import { trainableVariables, trainStep } from '../../compute/train.js';
import { exportToOnnx, INPUT_NAME } from '../../targets/onnx/export.js';
import { measureThroughput, median, type Throughput } from './measure.js';
import { valuesOf } from '../../compute/values.js';

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
  /** onnxruntime inference of the same model (exportToOnnx) at the same threads and batch, images per second (the faster of spinning and idle threads). */
  readonly forward: Throughput;
  /** Forward passes one training step costs: forward / (faster) train throughput. Goal <= 6. */
  readonly stepInForwardPasses: number;
}

/** The tfjs (wasm) training step of the same models, for the side-by-side. */
export interface TfjsTrainingResult {
  readonly model: (typeof TRAINING_MODELS)[number];
  readonly backend: string;
  readonly train: Throughput;
}

type Windows = { repeats: number; windowSeconds: number; warmup: number };

async function measureAsync(step: () => Promise<unknown>, items: number, options: Windows): Promise<Throughput> {
  for (let i = 0; i < options.warmup; i++) await step();
  const samples: number[] = [];
  for (let r = 0; r < options.repeats; r++) {
    const start = performance.now();
    let steps = 0;
    do {
      await step();
      steps++;
    } while (performance.now() - start < options.windowSeconds * 1000);
    samples.push((steps * items) / ((performance.now() - start) / 1000));
  }
  return { median: median(samples), samples };
}

function batchOf(seed: number): { images: Float32Array; targets: Float32Array } {
  const images = valuesOf(tf.tidy(() => tf.randomUniform([BATCH, 28, 28, 1], 0, 1, 'float32', seed)));
  const targets = new Float32Array(BATCH * 10);
  for (let i = 0; i < BATCH; i++) targets[i * 10 + ((i * 7 + seed) % 10)] = 1;
  return { images, targets };
}

/** onnxruntime training at 1 and 2 threads beside onnxruntime inference of the same model. */
export async function measureOnnxTraining(quick: boolean, log: (line: string) => void): Promise<OnnxTrainingResult[]> {
  const windows: Windows = { repeats: quick ? 3 : 7, windowSeconds: quick ? 0.5 : 1.5, warmup: 3 };
  const { images, targets } = batchOf(1);
  const results: OnnxTrainingResult[] = [];
  for (const name of TRAINING_MODELS) {
    const model = buildArchitecture(name, { imageShape: [28, 28, 1], classes: 10, seed: 0 });
    try {
      for (const threads of [1, 2]) {
        // Inference at its best: with and without spin-waiting threads, the faster counts.
        const forwardWith = async (spinning: boolean) => {
          const session = await ort.InferenceSession.create(exportToOnnx(model), { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } } });
          const feeds = { [INPUT_NAME]: new ort.Tensor('float32', images, [BATCH, 28, 28, 1]) };
          try {
            return await measureAsync(() => session.run(feeds), BATCH, windows);
          } finally {
            await session.release();
          }
        };
        const [spinning, idle] = [await forwardWith(true), await forwardWith(false)];
        const forward = spinning.median >= idle.median ? spinning : idle;
        const train = async (optimizerInGraph: boolean) => {
          const trainer = await OnnxTrainer.create(model, { loss: 'softmax-cross-entropy', classes: 10, optimizer: optimizerSettings('adam', 1e-3), threads, optimizerInGraph });
          try {
            const masks = trainer.masks.map((m) => new Float32Array(BATCH * m.shape.reduce((a, b) => a * b, 1)).fill(1));
            const batch = { count: BATCH, images, targets, sampleWeights: new Float32Array(BATCH).fill(1 / BATCH), masks };
            return await measureAsync(() => trainer.step(batch), BATCH, windows);
          } finally {
            await trainer.dispose();
          }
        };
        const trainTypedArrays = await train(false);
        const trainInGraph = await train(true);
        const best = Math.max(trainTypedArrays.median, trainInGraph.median);
        const result = { model: name, threads, trainTypedArrays, trainInGraph, forward, stepInForwardPasses: forward.median / best };
        log(`training engine onnxruntime ${name} ${threads} thread(s): train ${trainTypedArrays.median.toFixed(0)} img/s (typed arrays), ${trainInGraph.median.toFixed(0)} img/s (in graph); forward ${forward.median.toFixed(0)} img/s; a step = ${result.stepInForwardPasses.toFixed(1)} forward passes`);
        results.push(result);
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
      return { model: name, backend, train: measureThroughput(() => trainStep(model, optimizer, variables, [{ images: x, labels: y }]), BATCH, windows) };
    } finally {
      tf.dispose([x, y]);
      optimizer.dispose();
      model.dispose();
    }
  });
}
