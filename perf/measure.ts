import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { median } from '../src/common/stats.js';
import type { OnnxModelDescription } from '../src/compute/onnx-gradient/index.js';

/** How a zoo export of model C reads (targets/<name>/target.json): NHWC digits in [0, 1], logits out. */
export const MODEL_C_DESCRIPTION: OnnxModelDescription = {
  inputName: 'input',
  outputName: 'logits',
  layout: 'NHWC',
  inputShape: [28, 28, 1],
  inputRange: [0, 1],
  normalization: { mean: [0], std: [1] },
  outputKind: 'logits',
  classes: 10,
};

/** Samples of a throughput and their median, as hyperfine reports them. */
export interface Throughput {
  /** Median over samples, in items per second. */
  readonly median: number;
  /** Each sample: items per second over one timed window. */
  readonly samples: readonly number[];
  /**
   * Items per CPU-second of the whole process (every thread) over all timed windows: on a shared
   * machine wall clock swings with the neighbours' load, CPU time much less.
   */
  readonly perCpuSecond?: number;
}

export { median };

/**
 * Runs `step` (which handles `itemsPerStep` items) for `warmup` untimed steps, then `repeats`
 * windows of at least `windowSeconds` each (and at least one step), and reports items/s.
 */
export function measureThroughput(
  step: () => void,
  itemsPerStep: number,
  options: { repeats: number; windowSeconds: number; warmup: number },
): Throughput {
  for (let i = 0; i < options.warmup; i++) step();
  const samples: number[] = [];
  for (let r = 0; r < options.repeats; r++) {
    const start = performance.now();
    let steps = 0;
    do {
      step();
      steps++;
    } while (performance.now() - start < options.windowSeconds * 1000);
    samples.push((steps * itemsPerStep) / ((performance.now() - start) / 1000));
  }
  return { median: median(samples), samples };
}

/** measureThroughput for a step that returns a promise (onnxruntime sessions run asynchronously). */
export async function measureThroughputAsync(
  step: () => Promise<unknown>,
  itemsPerStep: number,
  options: { repeats: number; windowSeconds: number; warmup: number },
): Promise<Throughput> {
  for (let i = 0; i < options.warmup; i++) await step();
  const samples: number[] = [];
  const cpuStart = process.cpuUsage();
  let items = 0;
  for (let r = 0; r < options.repeats; r++) {
    const start = performance.now();
    let steps = 0;
    do {
      await step();
      steps++;
    } while (performance.now() - start < options.windowSeconds * 1000);
    samples.push((steps * itemsPerStep) / ((performance.now() - start) / 1000));
    items += steps * itemsPerStep;
  }
  const cpu = process.cpuUsage(cpuStart);
  return { median: median(samples), samples, perCpuSecond: items / ((cpu.user + cpu.system) / 1e6) };
}

/** What the figures were measured on. */
export function machineInfo(): { cpuModel: string; cores: number; memoryGiB: number; node: string; platform: string } {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** A python3 that can import torch, if any: the reference is a benchmark extra, never required. */
export function findTorchPython(): { python?: string; reason?: string } {
  for (const python of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status === 0) return { python };
  }
  return { reason: 'no python3 with torch found (apt-get install python3-torch)' };
}

export function runJsonScript(python: string, script: string, args: string[]): unknown {
  return JSON.parse(execFileSync(python, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 }));
}
