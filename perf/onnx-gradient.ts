import { Random } from '../src/common/random.js';
import { buildArchitecture } from '../src/compute/architectures.js';
import { createOnnxSurrogate } from '../src/compute/onnx-gradient/surrogate.js';
import { exportToOnnx } from '../src/targets/onnx/export.js';
import { MODEL_C_DESCRIPTION, machineInfo, median } from './measure.js';

/** One configuration's figures: medians over timed windows, wall clock and this process's CPU time. */
interface Rates {
  /** Images per wall-clock second (what a user sees; shared machines make it noisy). */
  readonly wallImagesPerSecond: number;
  /** Images per CPU-second of this process (robust to other load; at 2 threads it counts both). */
  readonly cpuImagesPerSecond: number;
  readonly wallSamples: readonly number[];
}

async function rates(step: () => Promise<unknown>, images: number, windows: number, seconds: number): Promise<Rates> {
  await step();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let w = 0; w < windows; w++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    let steps = 0;
    do {
      await step();
      steps++;
    } while (performance.now() - start < seconds * 1000);
    const used = process.cpuUsage(cpuStart);
    wall.push((steps * images) / ((performance.now() - start) / 1000));
    cpu.push((steps * images) / ((used.user + used.system) / 1e6));
  }
  return { wallImagesPerSecond: median(wall), cpuImagesPerSecond: median(cpu), wallSamples: wall };
}

/**
 * FGSM through the generated ONNX gradient (cross-entropy, batch 256) against onnxruntime
 * inference of the same model at the same threads, on model C's architecture (random weights:
 * speed does not depend on them). Issue 18's goal: gradient >= 25% of inference throughput.
 */
export async function onnxGradientBenchmark(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<Record<string, unknown>> {
  const windows = options.quick ? 3 : 5;
  const seconds = options.quick ? 0.5 : 2;
  const batch = 256;
  const model = buildArchitecture('model-c', { imageShape: [28, 28, 1], classes: 10, seed: 1 });
  const bytes = exportToOnnx(model);
  model.dispose();
  const random = new Random(1);
  const images = Float32Array.from({ length: batch * 784 }, () => random.next());
  const labels = Int32Array.from({ length: batch }, () => random.int(10));
  const results: Record<string, unknown>[] = [];
  for (const threads of [1, 2]) {
    const surrogate = await createOnnxSurrogate(bytes, MODEL_C_DESCRIPTION, {
      intraOpNumThreads: threads,
      batchSize: batch,
    });
    try {
      const inference = await rates(() => surrogate.logits(images, batch), batch, windows, seconds);
      const fgsm = await rates(
        async () => {
          const { gradient } = await surrogate.lossGradient(images, labels, { loss: 'cross-entropy' });
          const adversarial = new Float32Array(gradient.length);
          for (let i = 0; i < gradient.length; i++)
            adversarial[i] = Math.min(1, Math.max(0, (images[i] as number) + 0.1 * Math.sign(gradient[i] as number)));
          return adversarial;
        },
        batch,
        windows,
        seconds,
      );
      const row = {
        threads,
        inference,
        fgsm,
        wallRatio: fgsm.wallImagesPerSecond / inference.wallImagesPerSecond,
        cpuRatio: fgsm.cpuImagesPerSecond / inference.cpuImagesPerSecond,
      };
      options.log(
        `onnx-gradient model-c ${threads} thread(s): inference ${inference.wallImagesPerSecond.toFixed(0)} ` +
          `img/s, FGSM ${fgsm.wallImagesPerSecond.toFixed(0)} img/s (ratio ` +
          `${row.wallRatio.toFixed(3)} wall, ${row.cpuRatio.toFixed(3)} ` +
          `CPU time)`,
      );
      results.push(row);
    } finally {
      await surrogate.dispose();
    }
  }
  return {
    machine: machineInfo(),
    model: 'model-c (random weights, exported by exportToOnnx)',
    batch,
    goal: 'FGSM >= 0.25 x inference at equal threads',
    results,
  };
}
