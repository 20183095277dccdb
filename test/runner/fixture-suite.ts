import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../src/compute/backend.js';
import { loadEmbeddedMnist, stratifiedSplit, take } from '../../src/data/index.js';
import type { CellResult } from '../../src/records/results.js';
import { buildTarget } from '../../src/targets/zoo.js';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../fixtures/files.js';

/** The built command line, run as a separate process. */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export function cli(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 300000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A record without its timings, which differ between runs. */
export const timeless = (r: CellResult) => ({ ...r, seconds: 0, craftingSeconds: 0, imagesPerSecond: 0 });

/** A tiny zoo target and a small suite over it, in a fresh folder. */
export async function tinySuite(
  name = 'tiny',
): Promise<{ dir: string; suitePath: string; targetsDir: string; suite: Record<string, unknown> }> {
  await useBackend('wasm');
  const dir = tempDir(`transferbench-${name}-`);
  const targetsDir = join(dir, 'targets');
  mkdirSync(targetsDir, { recursive: true });
  const { train, test } = stratifiedSplit(loadEmbeddedMnist(), 0.2, 0);
  await buildTarget(
    {
      name: 'tiny-softmax',
      architecture: 'softmax',
      epochs: 2,
      batchSize: 64,
      learningRate: 0.01,
      seed: 1,
      trainImages: 1000,
    },
    { train, test: take(test, 200) },
    'mnist-embedded',
    targetsDir,
  );
  const suite = {
    name,
    dataset: 'mnist-embedded',
    seed: 0,
    evaluationSize: 40,
    targets: ['tiny-softmax'],
    oracle: { mode: 'probabilities', workers: 1 },
    substitutes: [
      {
        strategy: 'ground-truth',
        architectures: ['softmax'],
        budgets: [0],
        params: { trainImages: 600 },
        training: { epochs: 1 },
      },
      { strategy: 'static-distillation', architectures: ['softmax'], budgets: [300], training: { epochs: 2 } },
      { strategy: 'white-box', architectures: ['softmax'], budgets: [0] },
    ],
    attacks: [
      { name: 'fgsm', eps: [0.1, 0.25] },
      { name: 'bim', eps: [0.1], params: { steps: 5 } },
    ],
    labelSources: ['true', 'predicted'],
    examples: 4,
    rubbish: { samples: 64 },
  };
  const suitePath = join(dir, `${name}.json`);
  writeFileSync(suitePath, JSON.stringify(suite, null, 2));
  return { dir, suitePath, targetsDir, suite };
}
