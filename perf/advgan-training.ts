import { loadavg } from 'node:os';
import { trainGenerator } from '../src/attacks/advgan/train.js';
import { drive } from '../src/attacks/crafting.js';
import { buildArchitecture } from '../src/compute/architectures.js';
import { currentBackendInfo, useBackend } from '../src/compute/backend.js';
import type { EngineInfo } from '../src/compute/engine.js';
import type { LossGradient, LossRequest, Surrogate } from '../src/compute/surrogate.js';
import { TfjsSurrogate } from '../src/compute/tfjs-surrogate.js';
import { loadEmbeddedMnist, take } from '../src/data/index.js';
import { machineInfo, median } from './measure.js';

/**
 * Surrogates AdvGAN trains against in bench/repro-advgan.json: the white-box cells use the
 * target's own network (models A, B, C), the distillation cells a cnn-small substitute. Their
 * weights do not change the cost, so untrained networks stand in.
 */
const SURROGATES = ['model-a', 'model-b', 'model-c', 'cnn-small'] as const;
/** One onnxruntime thread: on the shared 2-core machine two threads lose to contention (README, "Training engine"). */
const ENGINES: readonly EngineInfo[] = [
  { name: 'tfjs' },
  { name: 'onnxruntime', threads: 1, optimizer: 'typed-arrays' },
];
/** repro-advgan's generator setting before the onnxruntime engine: 5 epochs on 2,000 digits (README, "AdvGAN"). */
const OLD_BUDGET = { epochs: 5, images: 2000 };
const FULL_TRAINING_SET = 8000;

/** One surrogate x engine: seconds of one AdvGAN training epoch, of which the surrogate's gradients. */
export interface AdvGanEpochResult {
  readonly surrogate: (typeof SURROGATES)[number];
  readonly engine: string;
  /** Wall seconds of one epoch (generator and discriminator steps, generation, surrogate), one per repeat. */
  readonly seconds: readonly number[];
  readonly medianSeconds: number;
  /**
   * CPU seconds of the process (every thread) for the same epochs: on a machine shared with
   * other jobs the wall clock swings with their load, CPU time much less.
   */
  readonly cpuSeconds: readonly number[];
  readonly medianCpuSeconds: number;
  /** Of the wall seconds, those in the surrogate's loss gradients (the same work on every engine). */
  readonly surrogateSeconds: readonly number[];
  /** 1-minute load average when each repeat started (2 shared cores). */
  readonly loadAverage: readonly number[];
}

const engineLabel = (e: EngineInfo) => (e.name === 'tfjs' ? 'tfjs' : `onnxruntime/${e.threads}`);

/**
 * One AdvGAN training epoch (batch 64, the suite's settings) on `images` digits per surrogate and
 * engine, the engines interleaved within each repeat so load swings hit them alike; then, per
 * surrogate, how many epochs on the full 8,000 training digits the onnxruntime engine (1 thread)
 * fits in the CPU time tfjs took for repro-advgan's old 5 epochs on 2,000.
 */
export async function advganTrainingBenchmark(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<Record<string, unknown>> {
  await useBackend('wasm');
  const images = options.quick ? 256 : OLD_BUDGET.images;
  const repeats = options.quick ? 1 : 3;
  const digits = take(loadEmbeddedMnist(), images);
  const results: AdvGanEpochResult[] = [];
  for (const name of SURROGATES) {
    const net = buildArchitecture(name, { imageShape: [28, 28, 1], classes: 10, seed: 0 });
    const surrogate = TfjsSurrogate.fromLayersModel(name, net);
    let inSurrogate = 0;
    const timed: Surrogate = {
      name,
      imageShape: surrogate.imageShape,
      classes: surrogate.classes,
      dispose: async () => undefined,
      logits: (x: Float32Array, count: number) => surrogate.logits(x, count),
      lossGradient: async (x: Float32Array, labels: Int32Array, request: LossRequest): Promise<LossGradient> => {
        const start = performance.now();
        try {
          return await surrogate.lossGradient(x, labels, request);
        } finally {
          inSurrogate += (performance.now() - start) / 1000;
        }
      },
    };
    const rows = ENGINES.map((engine) => ({
      engine,
      seconds: [] as number[],
      cpuSeconds: [] as number[],
      surrogateSeconds: [] as number[],
      loadAverage: [] as number[],
    }));
    for (let r = 0; r < repeats; r++) {
      for (const row of rows) {
        row.loadAverage.push(loadavg()[0] as number);
        inSurrogate = 0;
        const start = performance.now();
        const cpu = process.cpuUsage();
        await drive(
          timed,
          trainGenerator(
            digits.images,
            digits.labels,
            [28, 28, 1],
            {
              eps: 0.3,
              epochs: 1,
              batchSize: 64,
              learningRate: 0.001,
              alpha: 1,
              beta: 1,
              hingeBound: 3,
              confidence: 0,
              targeted: false,
              seed: r,
            },
            row.engine,
          ),
        );
        row.seconds.push((performance.now() - start) / 1000);
        const used = process.cpuUsage(cpu);
        row.cpuSeconds.push((used.user + used.system) / 1e6);
        row.surrogateSeconds.push(inSurrogate);
        options.log(
          `advgan-training ${name} ${engineLabel(row.engine)}: ${row.seconds.at(-1)?.toFixed(2)} ` +
            `s (${row.cpuSeconds.at(-1)?.toFixed(2)} CPU s) per epoch on ` +
            `${images} digits (surrogate ${inSurrogate.toFixed(2)} s), load ` +
            `${row.loadAverage.at(-1)?.toFixed(1)}`,
        );
      }
    }
    net.dispose();
    for (const row of rows)
      results.push({
        surrogate: name,
        engine: engineLabel(row.engine),
        seconds: row.seconds,
        medianSeconds: median(row.seconds),
        cpuSeconds: row.cpuSeconds,
        medianCpuSeconds: median(row.cpuSeconds),
        surrogateSeconds: row.surrogateSeconds,
        loadAverage: row.loadAverage,
      });
  }
  // Read on CPU seconds (see cpuSeconds); the wall-clock medians are in `results` beside them.
  const fits = SURROGATES.map((name) => {
    const of = (engine: string) =>
      results.find((r) => r.surrogate === name && r.engine === engine)?.medianCpuSeconds ?? Number.NaN;
    const oldBudgetCpuSeconds = (OLD_BUDGET.epochs * of('tfjs') * OLD_BUDGET.images) / images;
    const fullEpochCpuSeconds = (of('onnxruntime/1') * FULL_TRAINING_SET) / images;
    return {
      surrogate: name,
      speedup: of('tfjs') / of('onnxruntime/1'),
      oldBudgetCpuSeconds,
      fullEpochCpuSeconds,
      epochsOnFullTrainingSet: Math.floor(oldBudgetCpuSeconds / fullEpochCpuSeconds),
    };
  });
  return { machine: machineInfo(), backend: currentBackendInfo(), images, repeats, results, fits };
}
