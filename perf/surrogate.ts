import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { craftAdversarial, craftAdversarialSync } from '../src/attacks/index.js';
import { buildArchitecture } from '../src/compute/architectures.js';
import { useBackend } from '../src/compute/backend.js';
import { createOnnxSurrogate, type OnnxModelDescription } from '../src/compute/onnx-gradient/index.js';
import { TfjsSurrogate } from '../src/compute/tfjs-surrogate.js';
import { loadTarget } from '../src/targets/descriptor.js';
import { gradientDescriptionOf } from '../src/targets/onnx/gradient-description.js';
import { exportToOnnx } from '../src/targets/onnx/export.js';
import {
  findTorchPython,
  MODEL_C_DESCRIPTION,
  machineInfo,
  measureThroughputAsync,
  runJsonScript,
  type Throughput,
} from './measure.js';

const BATCH = 256;
const THREADS = [1, 2] as const;
const EPS = 0.1;
const ATTACKS = [
  { label: 'FGSM', name: 'fgsm', params: {}, torchKey: 'fgsm' },
  { label: 'PGD-10', name: 'pgd', params: { steps: 10, stepSize: 0.01 }, torchKey: 'pgd10' },
] as const;
const FIXTURES_SCRIPT = fileURLToPath(new URL('../../bench/torch_fixtures.py', import.meta.url));
const TORCH_SCRIPT = fileURLToPath(new URL('../../bench/perf/torch_surrogate_reference.py', import.meta.url));
const PEAK_MEMORY = fileURLToPath(new URL('./peak-memory.js', import.meta.url));

/** One measured figure: a path (onnx surrogate, wasm, onnxruntime inference) x model x attack x threads. */
interface SurrogateResult {
  readonly path: 'onnx-surrogate' | 'wasm' | 'onnxruntime-inference';
  readonly model: BenchModel['name'];
  /** FGSM, PGD-10, or "inference" (a forward pass only). */
  readonly attack: string;
  readonly threads: number;
  readonly imagesPerSecond: Throughput;
}

interface TorchSurrogateReport {
  torch: string;
  threads: number;
  /** Per attack: images per second (wall clock, median of windows) and per CPU-second of the process. */
  models: Record<string, { probe: number[] } & Record<string, number | number[]>>;
}

interface BenchModel {
  readonly name: 'model-c' | 'resnet18' | 'vit-small';
  readonly onnxPath: string;
  readonly bytes: Uint8Array;
  readonly description: OnnxModelDescription;
  readonly descriptorPath?: string;
}

/** The pixels of the probe batch both sides evaluate (as torch_surrogate_reference.py makes them). */
function probeImages(count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => ((i * 7919) % 1000) / 1000);
}

function randomBatch(size: number, classes: number, seed: number): { images: Float32Array; labels: Int32Array } {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return {
    images: Float32Array.from({ length: BATCH * size }, next),
    labels: Int32Array.from({ length: BATCH }, () => Math.floor(next() * classes)),
  };
}

/**
 * Model C as ONNX: the given file (a zoo export) or the untrained tfjs model C exported here; throughput does not
 * depend on weights.
 */
async function modelC(dir: string, given: string | undefined): Promise<BenchModel> {
  const description = MODEL_C_DESCRIPTION;
  if (given !== undefined) {
    const target = loadTarget(given);
    return {
      name: 'model-c',
      onnxPath: target.modelPath,
      bytes: readFileSync(target.modelPath),
      description: gradientDescriptionOf(target.descriptor),
      descriptorPath: given,
    };
  }
  await useBackend('wasm');
  const net = buildArchitecture('model-c', { imageShape: [28, 28, 1], classes: 10, seed: 0 });
  const bytes = exportToOnnx(net);
  net.dispose();
  const onnxPath = join(dir, 'model-c.onnx');
  writeFileSync(onnxPath, bytes);
  return { name: 'model-c', onnxPath, bytes, description };
}

/**
 * A network of bench/torch_fixtures.py (random seed-0 weights) exported there at run time (tens of MB, not
 * committed).
 */
function torchModel(python: string, dir: string, name: 'resnet18' | 'vit-small'): BenchModel {
  const out = join(dir, name);
  execFileSync(python, [FIXTURES_SCRIPT, `--${name}`, out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const target = loadTarget(join(out, 'target.json'));
  return {
    name,
    onnxPath: target.modelPath,
    bytes: readFileSync(target.modelPath),
    description: gradientDescriptionOf(target.descriptor),
    descriptorPath: target.descriptorPath,
  };
}

/** ORT sessions for inference with the same thread settings the surrogate uses. */
function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}

async function measureModel(
  model: BenchModel,
  attacks: readonly (typeof ATTACKS)[number][],
  timing: { repeats: number; windowSeconds: number; warmup: number },
  log: (line: string) => void,
): Promise<{ results: SurrogateResult[]; probe: Float32Array }> {
  const [a, b, c] = model.description.inputShape;
  const size = a * b * c;
  const batch = randomBatch(size, model.description.classes, 7);
  const ids = Array.from({ length: BATCH }, (_, i) => i);
  const results: SurrogateResult[] = [];
  let probe: Float32Array = new Float32Array();
  for (const threads of THREADS) {
    // The plain model as onnxruntime runs it for inference: the ceiling a gradient pass is read against.
    const session = await ort.InferenceSession.create(model.bytes, sessionOptions(threads));
    const feed = {
      [model.description.inputName]: new ort.Tensor('float32', batch.images, [BATCH, ...model.description.inputShape]),
    };
    const inference = await measureThroughputAsync(() => session.run(feed), BATCH, timing);
    await session.release();
    log(`surrogate ${model.name} onnxruntime inference, ${threads} thread(s): ${inference.median.toFixed(0)} img/s`);
    results.push({
      path: 'onnxruntime-inference',
      model: model.name,
      attack: 'inference',
      threads,
      imagesPerSecond: inference,
    });
    const surrogate = await createOnnxSurrogate(model.bytes, model.description, {
      name: model.name,
      intraOpNumThreads: threads,
      batchSize: BATCH,
    });
    try {
      if (threads === 1) probe = await surrogate.logits(probeImages(4 * size), 4);
      for (const attack of attacks) {
        const request = {
          images: batch.images,
          trueLabels: batch.labels,
          ids,
          eps: EPS,
          labelSource: 'true' as const,
          params: attack.params,
        };
        const throughput = await measureThroughputAsync(
          () => craftAdversarial(attack.name, surrogate, request),
          BATCH,
          timing,
        );
        log(
          `surrogate ${model.name} ${attack.label} on the ONNX surrogate, ` +
            `${threads} thread(s): ${throughput.median.toFixed(0)} img/s`,
        );
        results.push({
          path: 'onnx-surrogate',
          model: model.name,
          attack: attack.label,
          threads,
          imagesPerSecond: throughput,
        });
      }
    } finally {
      await surrogate.dispose();
    }
  }
  return { results, probe };
}

/** The same attacks on the tfjs model C on the wasm backend (single-threaded under Node). */
async function measureWasm(
  timing: { repeats: number; windowSeconds: number; warmup: number },
  log: (line: string) => void,
): Promise<SurrogateResult[]> {
  await useBackend('wasm');
  const net = buildArchitecture('model-c', { imageShape: [28, 28, 1], classes: 10, seed: 0 });
  const surrogate = TfjsSurrogate.fromLayersModel('model-c', net);
  const batch = randomBatch(784, 10, 7);
  const ids = Array.from({ length: BATCH }, (_, i) => i);
  try {
    const results: SurrogateResult[] = [];
    for (const attack of ATTACKS) {
      const throughput = await measureThroughputAsync(
        async () =>
          craftAdversarialSync(attack.name, surrogate, {
            images: batch.images,
            trueLabels: batch.labels,
            ids,
            eps: EPS,
            labelSource: 'true',
            params: attack.params,
          }),
        BATCH,
        timing,
      );
      log(`surrogate model-c ${attack.label} on wasm: ${throughput.median.toFixed(0)} img/s`);
      results.push({ path: 'wasm', model: 'model-c', attack: attack.label, threads: 1, imagesPerSecond: throughput });
    }
    return results;
  } finally {
    net.dispose();
    tf.disposeVariables();
  }
}

function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    difference = Math.max(difference, Math.abs((a[i] ?? Number.NaN) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return a.length === b.length ? difference / Math.max(scale, 1e-30) : Number.POSITIVE_INFINITY;
}

/**
 * The `surrogate` part of `npm run bench:perf`: attacks crafted through the ONNX gradient builder
 * on onnxruntime (1 and 2 threads) against the wasm path and PyTorch on the same networks and
 * weights, all in this one run: model C (FGSM, PGD-10), a ResNet-18-style CIFAR-10 net and a
 * ViT-small at CIFAR size (FGSM), each beside onnxruntime's inference throughput of the same model, and the peak
 * resident memory of one 256-image FGSM batch on the ResNet.
 */
export async function surrogateBenchmark(options: {
  quick: boolean;
  log: (line: string) => void;
  modelC?: string;
  skipVit?: boolean;
}): Promise<Record<string, unknown>> {
  const started = new Date().toISOString();
  const loadAtStart = loadavg();
  const timing = { repeats: options.quick ? 3 : 5, windowSeconds: options.quick ? 0.5 : 2, warmup: 1 };
  const dir = mkdtempSync(join(tmpdir(), 'transferbench-perf-'));
  const { python, reason } = findTorchPython();
  const c = await modelC(dir, options.modelC);
  const results: SurrogateResult[] = [];
  const skipped: { what: string; reason: string }[] = [];
  const measuredC = await measureModel(c, ATTACKS, timing, options.log);
  results.push(...measuredC.results, ...(await measureWasm(timing, options.log)));
  const models: BenchModel[] = [c];
  const probes: Record<string, Float32Array> = { 'model-c': measuredC.probe };
  let memory: Record<string, unknown> | undefined;
  if (python === undefined) {
    skipped.push({ what: 'resnet18, vit-small and every PyTorch figure', reason: reason ?? 'no python3 with torch' });
  } else {
    if (options.skipVit) skipped.push({ what: 'vit-small', reason: '--skip-vit' });
    for (const name of options.skipVit ? (['resnet18'] as const) : (['resnet18', 'vit-small'] as const)) {
      const model = torchModel(python, dir, name);
      models.push(model);
      const measured = await measureModel(model, ATTACKS.slice(0, 1), timing, options.log);
      results.push(...measured.results);
      probes[name] = measured.probe;
    }
    const resnetDescriptor = models.find((m) => m.name === 'resnet18')?.descriptorPath as string;
    const ours = JSON.parse(
      execFileSync(process.execPath, [PEAK_MEMORY, resnetDescriptor, String(BATCH)], { encoding: 'utf8' }),
    ) as Record<string, number>;
    const theirs = runJsonScript(python, TORCH_SCRIPT, ['--peak-memory', 'resnet18', '--threads', '1']) as Record<
      string,
      number
    >;
    memory = {
      model: 'resnet18',
      batch: BATCH,
      onnxSurrogate: ours,
      pytorch: {
        peakRssMiB: (theirs.maxRssKiB ?? 0) / 1024,
        rssBeforeBatchMaxMiB: (theirs.maxRssKiBBefore ?? 0) / 1024,
      },
    };
    options.log(
      `surrogate resnet18 peak RSS of a ${BATCH}-image FGSM batch: ` +
        `${ours.peakRssMiB?.toFixed(0)} MiB (PyTorch ${((theirs.maxRssKiB ?? 0) / 1024).toFixed(0)} ` +
        `MiB)`,
    );
  }
  const pytorch: Record<string, TorchSurrogateReport> = {};
  if (python !== undefined) {
    for (const threads of THREADS) {
      pytorch[String(threads)] = runJsonScript(python, TORCH_SCRIPT, [
        '--model-c',
        c.onnxPath,
        '--threads',
        String(threads),
        '--seconds',
        options.quick ? '2' : '6',
        ...(options.skipVit ? ['--skip-vit'] : []),
      ]) as TorchSurrogateReport;
      const rates = torchFgsmRates(pytorch[String(threads)]?.models);
      options.log(`surrogate PyTorch ${threads} thread(s): ${JSON.stringify(rates)} FGSM img/s`);
    }
  }
  const inference = (model: string, threads: number) =>
    results.find((r) => r.path === 'onnxruntime-inference' && r.model === model && r.threads === threads)
      ?.imagesPerSecond;
  const ratios = results
    .filter((r) => r.path !== 'onnxruntime-inference')
    .flatMap((r) =>
      THREADS.map((threads) => {
        const attack = ATTACKS.find((a) => a.label === r.attack);
        const entry = attack ? pytorch[String(threads)]?.models[r.model] : undefined;
        const reference = attack ? (entry?.[`${attack.torchKey}ImagesPerSecond`] as number | undefined) : undefined;
        const referenceCpu = attack
          ? (entry?.[`${attack.torchKey}ImagesPerCpuSecond`] as number | undefined)
          : undefined;
        const sameThreads = r.threads === threads || r.path === 'wasm';
        const cpu = r.imagesPerSecond.perCpuSecond;
        return {
          path: r.path,
          model: r.model,
          attack: r.attack,
          threads: r.threads,
          pytorchThreads: threads,
          /** Goal: >= 3 at each thread count (the ONNX surrogate at the same threads as PyTorch). */
          vsPytorch: reference && sameThreads ? r.imagesPerSecond.median / reference : null,
          /** The same in images per CPU-second of each process (less sensitive to the machine's other load). */
          vsPytorchCpu: referenceCpu && cpu && sameThreads ? cpu / referenceCpu : null,
          /** Goal for FGSM: >= 0.25 (a gradient costs a few forward passes). */
          vsInference:
            r.path === 'onnx-surrogate' && r.threads === threads
              ? r.imagesPerSecond.median / (inference(r.model, threads)?.median ?? Number.NaN)
              : null,
          vsInferenceCpu:
            r.path === 'onnx-surrogate' && r.threads === threads && cpu
              ? cpu / (inference(r.model, threads)?.perCpuSecond ?? Number.NaN)
              : null,
        };
      }),
    )
    .filter((r) => r.vsPytorch !== null || r.vsInference !== null);
  // Both sides must compute the same network: their logits on a fixed batch.
  const parity = Object.fromEntries(
    Object.entries(probes).map(([m, logits]) => [
      m,
      pytorch['1']?.models[m] ? maxRelativeDifference(logits, pytorch['1'].models[m].probe) : null,
    ]),
  );
  return {
    part: 'surrogate',
    batch: BATCH,
    eps: EPS,
    models: models.map((m) => ({
      name: m.name,
      onnx: m.descriptorPath ?? 'model C (tfjs, seed 0, untrained) exported by exportToOnnx',
      bytes: m.bytes.length,
    })),
    measuredAt: started,
    finishedAt: new Date().toISOString(),
    /** 1-, 5- and 15-minute load averages at the start and the end: the machine is shared. */
    load: { start: loadAtStart, end: loadavg() },
    machine: machineInfo(),
    results,
    ratios,
    parityMaxRelativeDifference: parity,
    memory: memory ?? null,
    pytorch:
      python === undefined
        ? { available: false, reason }
        : {
            available: true,
            byThreads: Object.fromEntries(
              Object.entries(pytorch).map(([t, r]) => [
                t,
                {
                  ...r,
                  models: Object.fromEntries(Object.entries(r.models).map(([m, e]) => [m, { ...e, probe: undefined }])),
                },
              ]),
            ),
          },
    skipped,
  };
}

function torchFgsmRates(models: TorchSurrogateReport['models'] | undefined): Record<string, number> {
  return Object.fromEntries(
    Object.entries(models ?? {}).map(([m, e]) => [m, Math.round(e.fgsmImagesPerSecond as number)]),
  );
}
