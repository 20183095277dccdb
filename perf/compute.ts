import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { buildArchitecture } from '../src/compute/architectures.js';
import { probeBackends, useBackend, type BackendInfo } from '../src/compute/backend.js';
import { trainStep, trainableVariables } from '../src/compute/train.js';
import { measureOnnxTraining, measureTfjsTraining } from './training-engine.js';
import { findTorchPython, machineInfo, measureThroughput, runJsonScript, type Throughput } from './measure.js';

const MODELS = ['mlp', 'cnn-small'] as const;
const BATCH = 64;

/** One backend x model measurement. */
export interface ComputeResult {
  readonly backend: string;
  readonly model: (typeof MODELS)[number];
  /** Optimiser steps (Adam, softmax cross-entropy), images per second. */
  readonly train: Throughput;
  /** Gradient of the loss with respect to a batch of inputs (an attack's inner step), images per second. */
  readonly inputGradient: Throughput;
}

export interface TorchReport {
  torch: string;
  threads: number;
  models: Record<
    string,
    {
      trainImagesPerSecond: number;
      inputGradientImagesPerSecond: number;
      fgsmImagesPerSecond?: number;
      pgd10ImagesPerSecond?: number;
    }
  >;
}

export const TORCH_SCRIPT = fileURLToPath(new URL('../../bench/perf/torch_reference.py', import.meta.url));

/** PyTorch on this machine at 1 and 2 threads, or why not. */
export interface TorchReference {
  available: boolean;
  reason?: string;
  byThreads: Record<string, TorchReport>;
}

let torchCache: TorchReference | undefined;

/** PyTorch on this machine at 1 and 2 threads, or why not; run once per process and shared by the parts. */
export function torchReference(seconds: number): TorchReference {
  torchCache ??= runTorchReference(seconds);
  return torchCache;
}

function runTorchReference(seconds: number): TorchReference {
  const { python, reason } = findTorchPython();
  if (python === undefined) return { available: false, reason: reason ?? 'unknown', byThreads: {} };
  const byThreads: Record<string, TorchReport> = {};
  for (const threads of [1, 2]) {
    byThreads[String(threads)] = runJsonScript(python, TORCH_SCRIPT, [
      '--seconds',
      String(seconds),
      '--threads',
      String(threads),
    ]) as TorchReport;
  }
  return { available: true, byThreads };
}

function measureModel(backend: BackendInfo, model: (typeof MODELS)[number], quick: boolean): ComputeResult {
  const net = buildArchitecture(model, { imageShape: [28, 28, 1], classes: 10, seed: 0 });
  const optimizer = tf.train.adam(1e-3);
  const variables = trainableVariables(net);
  const images = tf.randomUniform([BATCH, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32', 2) as tf.Tensor1D, 10) as tf.Tensor2D;
  // The plain-JS cpu backend needs ~20 s per CNN step: one step is all it gets.
  const slow = backend.name === 'cpu';
  const options = slow
    ? { repeats: 1, windowSeconds: 0, warmup: 0 }
    : { repeats: quick ? 3 : 7, windowSeconds: quick ? 0.5 : 1.5, warmup: 3 };
  try {
    const train = measureThroughput(() => trainStep(net, optimizer, variables, [{ images, labels }]), BATCH, options);
    const lossOf = (x: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, net.apply(x) as tf.Tensor);
    const inputGradient = measureThroughput(
      () => {
        const g = tf.tidy(() => tf.grad(lossOf)(images).sign());
        g.dataSync();
        g.dispose();
      },
      BATCH,
      options,
    );
    return { backend: backend.name, model, train, inputGradient };
  } finally {
    tf.dispose([images, labels]);
    optimizer.dispose();
    net.dispose();
  }
}

/** The `compute` part of `npm run bench:perf`: reports/perf/compute.json. */
export async function computeBenchmark(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<Record<string, unknown>> {
  const candidates = await probeBackends();
  const results: ComputeResult[] = [];
  for (const candidate of candidates.filter((c) => c.loaded)) {
    const info = await useBackend(candidate.name);
    for (const model of MODELS) {
      const result = measureModel(info, model, options.quick);
      options.log(
        `compute ${info.name} ${model}: train ${result.train.median.toFixed(1)} ` +
          `img/s, input gradient ${result.inputGradient.median.toFixed(1)} ` +
          `img/s`,
      );
      results.push(result);
    }
  }
  const active = await useBackend(undefined);
  // The training engines side by side (README, "Training engine"): tfjs on the default backend, onnxruntime at 1 and 2
  // threads.
  const tfjsTraining = measureTfjsTraining(active.name, options.quick);
  for (const t of tfjsTraining)
    options.log(`training engine tfjs (${t.backend}) ${t.model}: train ${t.train.median.toFixed(0)} img/s`);
  // PyTorch's step timed right before and after each onnxruntime measurement, so both see the same load.
  const { python } = findTorchPython();
  const pytorchStep = (model: string, threads: number) =>
    python === undefined
      ? undefined
      : (
          runJsonScript(python, TORCH_SCRIPT, [
            '--seconds',
            options.quick ? '1' : '3',
            '--threads',
            String(threads),
            '--models',
            model,
            '--train-only',
          ]) as TorchReport
        ).models[model]?.trainImagesPerSecond;
  const onnxTraining = await measureOnnxTraining(options.quick, options.log, pytorchStep);
  const torch = torchReference(options.quick ? 2 : 6);
  const trainingRatios = onnxTraining.map((r) => {
    const reference = r.pytorchTrain?.mean ?? torch.byThreads[String(r.threads)]?.models[r.model]?.trainImagesPerSecond;
    const tfjs = tfjsTraining.find((t) => t.model === r.model)?.train.median;
    const best = Math.max(r.trainTypedArrays.median, r.trainInGraph.median, r.trainReplicas?.median ?? 0);
    return {
      model: r.model,
      threads: r.threads,
      onnxruntimeOverPytorch: reference ? best / reference : null,
      onnxruntimeOverTfjs: tfjs ? best / tfjs : null,
      stepInForwardPasses: r.stepInForwardPasses,
    };
  });
  for (const r of trainingRatios)
    options.log(
      `training engine ${r.model} ${r.threads} thread(s): ${r.onnxruntimeOverPytorch?.toFixed(2) ?? '-'}x ` +
        `PyTorch, ${r.onnxruntimeOverTfjs?.toFixed(2) ?? '-'}x tfjs`,
    );
  const ratios = [];
  for (const r of results) {
    for (const [threads, report] of Object.entries(torch.byThreads)) {
      const reference = report.models[r.model];
      if (reference === undefined) continue;
      ratios.push({
        backend: r.backend,
        model: r.model,
        pytorchThreads: Number(threads),
        trainRatio: r.train.median / reference.trainImagesPerSecond,
        inputGradientRatio: r.inputGradient.median / reference.inputGradientImagesPerSecond,
      });
    }
  }
  return {
    part: 'compute',
    batch: BATCH,
    measuredAt: new Date().toISOString(),
    machine: machineInfo(),
    tfjs: tf.version_core,
    backends: candidates,
    results,
    pytorch: torch,
    ratios,
    trainingEngine: { tfjs: tfjsTraining, onnxruntime: onnxTraining, ratios: trainingRatios },
    notes: [
      'Medians over timed windows; tfjs wasm runs on one thread under ' +
        'Node (tfjs disables its threaded build there), PyTorch at 1 ' +
        'and 2 threads.',
      'cpu is measured with a single step: it is the plain-JS fallback.',
      'trainingEngine: Adam steps at batch 64; onnxruntime with the ' +
        'optimiser on typed arrays and in the graph (one session), at ' +
        '2 threads also on 2 one-thread replicas (what --train-threads ' +
        '2 runs), and onnxruntime inference of the same model at the ' +
        'same threads, in alternating windows; PyTorch (pytorchTrain) ' +
        'timed just before and after them at the same threads; ratios ' +
        'use the fastest of those and the mean of those two PyTorch figures.',
    ],
  };
}
