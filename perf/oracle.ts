import type * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildArchitecture } from '../src/compute/architectures.js';
import { useBackend } from '../src/compute/backend.js';
import { Random } from '../src/common/random.js';
import { ORACLE_ISOLATIONS, OraclePool, TargetOracle } from '../src/oracle/index.js';
import { sha256File, type ResolvedTarget, type TargetDescriptor } from '../src/targets/descriptor.js';
import { exportToOnnx, INPUT_NAME, OUTPUT_NAME } from '../src/targets/onnx/export.js';
import { machineInfo, median } from './measure.js';

const MODELS = ['model-c', 'mlp'] as const;
const BATCHES = [1, 32, 256] as const;

/** Multiply-adds of one forward pass, from the layer shapes (conv and dense; the rest is small). */
function forwardFlops(model: tf.LayersModel): number {
  let macs = 0;
  for (const layer of model.layers) {
    const out = layer.outputShape as number[];
    const kernel = layer.getWeights()[0];
    if (layer.getClassName() === 'Conv2D' && kernel) {
      const [kh, kw, ci, co] = kernel.shape as [number, number, number, number];
      macs += (out[1] as number) * (out[2] as number) * kh * kw * ci * co;
    } else if (layer.getClassName() === 'Dense' && kernel) {
      macs += (kernel.shape[0] as number) * (kernel.shape[1] as number);
    }
  }
  return 2 * macs;
}

/** Exports the architecture (untrained: speed does not depend on the weights) as a target. */
export function benchTarget(name: string, dir: string): { target: ResolvedTarget; flops: number } {
  const model = buildArchitecture(name, { imageShape: [28, 28, 1], classes: 10, seed: 0 });
  const modelPath = join(dir, `${name}.onnx`);
  writeFileSync(modelPath, exportToOnnx(model));
  const flops = forwardFlops(model);
  model.dispose();
  const descriptor: TargetDescriptor = {
    name,
    model: `${name}.onnx`,
    sha256: sha256File(modelPath),
    inputName: INPUT_NAME,
    outputName: OUTPUT_NAME,
    layout: 'NHWC',
    inputShape: [28, 28, 1],
    inputRange: [0, 1],
    normalization: { mean: [0], std: [1] },
    outputKind: 'logits',
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    dataset: 'none',
  };
  return { target: { descriptor, modelPath, descriptorPath: join(dir, `${name}.json`) }, flops };
}

/** Queries/s of `run` (one batch per call) with `inFlight` concurrent callers, median of windows. */
async function rate(
  run: () => Promise<unknown>,
  batch: number,
  inFlight: number,
  windows: number,
  seconds: number,
): Promise<{ median: number; samples: number[] }> {
  for (let i = 0; i < 2; i++) await Promise.all(Array.from({ length: inFlight }, run));
  const samples: number[] = [];
  for (let w = 0; w < windows; w++) {
    const start = performance.now();
    let done = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() - start < seconds * 1000) {
          await run();
          done += batch;
        }
      }),
    );
    samples.push(done / ((performance.now() - start) / 1000));
  }
  return { median: median(samples), samples };
}

/** The `oracle` part of `npm run bench:perf`: reports/perf/oracle.json. */
export async function oracleBenchmark(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<Record<string, unknown>> {
  await useBackend(undefined);
  const dir = join(tmpdir(), `transferbench-oracle-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const windows = options.quick ? 3 : 5;
  const seconds = options.quick ? 0.5 : 1.5;
  const results: Record<string, unknown>[] = [];
  const models: Record<string, { gflopsPerImage: number }> = {};
  const summary: Record<string, Record<string, number>> = {};
  for (const name of MODELS) {
    const { target, flops } = benchTarget(name, dir);
    models[name] = { gflopsPerImage: flops / 1e9 };
    const bySetting: Record<string, number> = {};
    for (const batch of BATCHES) {
      const images = new Float32Array(batch * 784).map(() => new Random(batch).next());
      const session = await ort.InferenceSession.create(target.modelPath, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
      });
      const tensor = new ort.Tensor('float32', images, [batch, 28, 28, 1]);
      const bare = await rate(() => session.run({ [INPUT_NAME]: tensor }), batch, 1, windows, seconds);
      await session.release();
      bySetting[`bare-${batch}`] = bare.median;
      results.push({ model: name, setting: 'bare session, main thread', workers: 0, batch, queriesPerSecond: bare });
      // Both isolations side by side in one run, so their ratio is measured under the same load.
      for (const isolation of ORACLE_ISOLATIONS) {
        for (const workers of [1, 2]) {
          const pool = new OraclePool({ workers, minChunk: 64, isolation });
          const oracle = new TargetOracle(pool, target, { mode: 'probabilities' });
          // One caller per worker, so small batches can keep both workers busy too.
          const measured = await rate(() => oracle.query(images, 'evaluation'), batch, workers, windows, seconds);
          await pool.close();
          bySetting[`${isolation === 'threads' ? 'pool' : 'processes'}${workers}-${batch}`] = measured.median;
          results.push({
            model: name,
            setting: `pool (${isolation}), ${workers} worker(s)`,
            isolation,
            workers,
            batch,
            queriesPerSecond: measured,
          });
        }
      }
      const at = (key: string) => bySetting[`${key}-${batch}`]?.toFixed(0);
      options.log(
        `oracle ${name} batch ${batch}: bare ${at('bare')}, threads ${at('pool1')} / ${at('pool2')}, ` +
          `processes ${at('processes1')} / ${at('processes2')} queries/s (1 / 2 workers)`,
      );
    }
    summary[name] = {
      scaling2over1AtBatch256: (bySetting['pool2-256'] as number) / (bySetting['pool1-256'] as number),
      poolOverheadAtBatch256: 1 - (bySetting['pool1-256'] as number) / (bySetting['bare-256'] as number),
      gflopsPerSecondPool2AtBatch256: ((bySetting['pool2-256'] as number) * flops) / 1e9,
      processes2OverBareAtBatch256: (bySetting['processes2-256'] as number) / (bySetting['bare-256'] as number),
      threads2OverBareAtBatch256: (bySetting['pool2-256'] as number) / (bySetting['bare-256'] as number),
    };
  }
  return {
    part: 'oracle',
    measuredAt: new Date().toISOString(),
    machine: machineInfo(),
    onnxruntime: ort.env.versions?.common ?? 'unknown',
    intraOpThreadsPerWorker: 1,
    models,
    results,
    scaling2over1AtBatch256: summary['model-c']?.scaling2over1AtBatch256,
    poolOverheadAtBatch256: summary['model-c']?.poolOverheadAtBatch256,
    summaryByModel: summary,
    notes: [
      'Untrained weights: inference speed does not depend on them.',
      'Pool figures go through TargetOracle (counting, softmax, answer shaping), one concurrent caller per worker.',
    ],
  };
}
