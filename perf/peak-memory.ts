#!/usr/bin/env node
/**
 * Peak resident memory of one FGSM batch on an ONNX surrogate, in a process of its own so that
 * nothing else the benchmark ran counts: `node peak-memory.js DESCRIPTOR.json [BATCH]` prints
 * {"rssBeforeMiB", "peakRssMiB"} (the process's resident set once the surrogate is built, and
 * its maximum after the batch, as the kernel counts it: getrusage's ru_maxrss).
 */
import { readFileSync } from 'node:fs';
import { craftAdversarial } from '../src/attacks/index.js';
import { createOnnxSurrogate } from '../src/compute/onnx-gradient/index.js';
import { loadTarget } from '../src/targets/descriptor.js';
import { gradientDescriptionOf } from '../src/targets/onnx/gradient-description.js';

async function main(): Promise<void> {
  const [descriptorPath, batchText] = process.argv.slice(2);
  if (descriptorPath === undefined) throw new Error('usage: peak-memory.js DESCRIPTOR.json [BATCH]');
  const batch = Number(batchText ?? 256);
  const target = loadTarget(descriptorPath);
  const surrogate = await createOnnxSurrogate(
    readFileSync(target.modelPath),
    gradientDescriptionOf(target.descriptor),
    { intraOpNumThreads: 1 },
  );
  const size = surrogate.imageShape[0] * surrogate.imageShape[1] * surrogate.imageShape[2];
  const images = Float32Array.from({ length: batch * size }, (_, i) => ((i * 7919) % 1000) / 1000);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % surrogate.classes);
  // One tiny call builds the gradient session, so the baseline includes the loaded model.
  await surrogate.lossGradient(images.subarray(0, size), labels.subarray(0, 1), { loss: 'cross-entropy' });
  const rssBefore = process.memoryUsage().rss;
  await craftAdversarial('fgsm', surrogate, {
    images,
    trueLabels: labels,
    ids: Array.from({ length: batch }, (_, i) => i),
    eps: 0.03,
    labelSource: 'true',
    params: {},
  });
  const peakKiB = process.resourceUsage().maxRSS;
  await surrogate.dispose();
  process.stdout.write(`${JSON.stringify({ batch, rssBeforeMiB: rssBefore / 2 ** 20, peakRssMiB: peakKiB / 1024 })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`peak-memory: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
