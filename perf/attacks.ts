import * as tf from '@tensorflow/tfjs';
import { GeneratorSession, generatorNetwork } from '../src/attacks/advgan/index.js';
import { craftAdversarialSync } from '../src/attacks/index.js';
import { buildArchitecture } from '../src/compute/architectures.js';
import { probeBackends, useBackend } from '../src/compute/backend.js';
import { TfjsSurrogate } from '../src/compute/tfjs-surrogate.js';
import { torchReference } from './compute.js';
import { machineInfo, measureThroughput, measureThroughputAsync, type Throughput } from './measure.js';

const BATCH = 256;
const ATTACKS = [
  { name: 'fgsm', label: 'FGSM', params: {}, torchKey: 'fgsmImagesPerSecond' },
  { name: 'pgd', label: 'PGD-10', params: { steps: 10, stepSize: 0.01 }, torchKey: 'pgd10ImagesPerSecond' },
  { name: 'pgd', label: 'PGD-40', params: { steps: 40, stepSize: 0.01 }, torchKey: undefined },
] as const;

/** The `attacks` part of `npm run bench:perf`: adversarial images/s on model C, batch 256. */
export async function attacksBenchmark(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<Record<string, unknown>> {
  const candidates = await probeBackends();
  const results: { backend: string; attack: string; imagesPerSecond: Throughput }[] = [];
  const skipped: { backend: string; reason: string }[] = [];
  for (const candidate of candidates.filter((c) => c.loaded)) {
    if (candidate.name === 'cpu') {
      skipped.push({
        backend: 'cpu',
        reason:
          'plain-JS fallback, about 100x slower than wasm on convolutions ' +
          '(see compute.json); PGD-10 at batch 256 would take minutes',
      });
      continue;
    }
    await useBackend(candidate.name);
    const net = buildArchitecture('model-c', { imageShape: [28, 28, 1], classes: 10, seed: 0 });
    const surrogate = TfjsSurrogate.fromLayersModel('model-c', net);
    const images = tf.randomUniform([BATCH, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const labels = tf.randomUniform([BATCH], 0, 10, 'int32', 4) as tf.Tensor1D;
    const pixels = images.dataSync() as Float32Array;
    const trueLabels = labels.dataSync() as Int32Array;
    const ids = Array.from({ length: BATCH }, (_, i) => i);
    try {
      for (const attack of ATTACKS) {
        const throughput = measureThroughput(
          () => {
            craftAdversarialSync(attack.name, surrogate, {
              images: pixels,
              trueLabels,
              ids,
              eps: 0.1,
              labelSource: 'true',
              params: attack.params,
            });
          },
          BATCH,
          { repeats: options.quick ? 3 : 5, windowSeconds: options.quick ? 0.5 : 2, warmup: 1 },
        );
        options.log(`attacks ${candidate.name} model-c ${attack.label}: ${throughput.median.toFixed(1)} img/s`);
        results.push({ backend: candidate.name, attack: attack.label, imagesPerSecond: throughput });
      }
      // AdvGAN's argument is speed at attack time: one generator pass per image, once trained
      // (generation speed does not depend on the generator's weights). It runs on onnxruntime
      // whatever the tfjs backend, one intra-op thread.
      const generator = await GeneratorSession.open(generatorNetwork([28, 28, 1], 0));
      const generation = await measureThroughputAsync(() => generator.perturb(pixels, BATCH, 0.1), BATCH, {
        repeats: options.quick ? 3 : 5,
        windowSeconds: options.quick ? 0.5 : 2,
        warmup: 1,
      });
      await generator.release();
      options.log(`attacks ${candidate.name} AdvGAN generation: ${generation.median.toFixed(1)} img/s`);
      results.push({ backend: candidate.name, attack: 'AdvGAN generation', imagesPerSecond: generation });
    } finally {
      tf.dispose([images, labels]);
      net.dispose();
    }
  }
  await useBackend(undefined);
  const torch = torchReference(options.quick ? 2 : 6);
  const ratios = results.flatMap((r) => {
    const attack = ATTACKS.find((a) => a.label === r.attack);
    return Object.entries(torch.byThreads).map(([threads, report]) => {
      const reference = attack?.torchKey ? report.models['model-c']?.[attack.torchKey] : undefined;
      return {
        backend: r.backend,
        attack: r.attack,
        pytorchThreads: Number(threads),
        ratio: reference ? r.imagesPerSecond.median / reference : null,
      };
    });
  });
  return {
    part: 'attacks',
    model: 'model-c (untrained weights: throughput does not depend on them)',
    batch: BATCH,
    eps: 0.1,
    measuredAt: new Date().toISOString(),
    machine: machineInfo(),
    results,
    skipped,
    pytorch: torch,
    ratios,
  };
}
