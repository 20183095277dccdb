import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildNetwork } from '../src/compute/network/architectures.js';
import { trainingForm } from '../src/compute/onnx-train/training-form.js';
import { OnnxTrainer } from '../src/compute/onnx-train/trainer.js';
import { optimizerSettings } from '../src/compute/onnx-train/optimizer.js';
import { findTorchPython, machineInfo, measureThroughputAsync, runJsonScript, type Throughput } from './measure.js';

const BATCH = 64;
const SHAPE = [32, 32, 3] as const;
const TORCH_SCRIPT = fileURLToPath(new URL('../../bench/perf/torch_training_reference.py', import.meta.url));

interface TorchTraining {
  readonly torch: string;
  readonly imagesPerSecond: { median: number; samples: number[] };
}

/**
 * Training the CIFAR-style ResNet-18 substitute (issue 26): Adam steps at batch 64 in training
 * mode (BatchNormalization on the batch's statistics) on onnxruntime's engine against PyTorch
 * 1.13's on the same architecture, at 1 and 2 threads, each pair measured back to back.
 */
export async function networkTrainingBenchmark(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<Record<string, unknown>> {
  const timing = options.quick
    ? { repeats: 2, windowSeconds: 1, warmup: 1 }
    : { repeats: 3, windowSeconds: 3, warmup: 2 };
  const torch = findTorchPython();
  const network = buildNetwork('resnet18', { imageShape: SHAPE, classes: 10, seed: 0 });
  const form = await trainingForm(network, 'images', 'logits');
  const size = SHAPE[0] * SHAPE[1] * SHAPE[2];
  const images = Float32Array.from({ length: BATCH * size }, (_, i) => ((i * 7919) % 1000) / 1000);
  const targets = new Float32Array(BATCH * 10);
  for (let i = 0; i < BATCH; i++) targets[i * 10 + (i % 10)] = 1;
  const rows: Record<string, unknown>[] = [];
  for (const threads of [1, 2]) {
    const trainer = await OnnxTrainer.create(form, {
      loss: 'softmax-cross-entropy',
      classes: 10,
      optimizer: optimizerSettings('adam', 1e-3),
      threads,
      optimizerInGraph: false,
    });
    let ours: Throughput;
    const load = loadavg()[0];
    try {
      ours = await measureThroughputAsync(
        () =>
          trainer.step({
            count: BATCH,
            images,
            targets,
            sampleWeights: new Float32Array(BATCH).fill(1 / BATCH),
            masks: [],
          }),
        BATCH,
        timing,
      );
    } finally {
      await trainer.dispose();
    }
    const reference =
      torch.python === undefined
        ? undefined
        : (runJsonScript(torch.python, TORCH_SCRIPT, [
            '--threads',
            String(threads),
            '--seconds',
            String(timing.windowSeconds),
            '--repeats',
            String(timing.repeats),
            '--batch',
            String(BATCH),
          ]) as TorchTraining);
    const ratio = reference ? ours.median / reference.imagesPerSecond.median : undefined;
    options.log(
      `resnet18 training, ${threads} thread(s): onnxruntime ${ours.median.toFixed(1)} img/s` +
        (reference ? `, PyTorch ${reference.imagesPerSecond.median.toFixed(1)} img/s (${ratio?.toFixed(2)}x)` : '') +
        ` (load ${load?.toFixed(1)})`,
    );
    rows.push({
      model: 'resnet18',
      threads,
      batch: BATCH,
      onnxruntime: ours,
      torch: reference ?? null,
      ratio,
      loadBefore: load,
    });
  }
  return {
    machine: machineInfo(),
    goal: 'onnxruntime >= 1.0x PyTorch at 1 and 2 threads (issue 26)',
    torch: torch.python === undefined ? { skipped: torch.reason } : {},
    rows,
  };
}
