import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import type { TargetDescriptor } from '../../src/targets/descriptor.js';
import { TinyGraph } from '../compute/onnx-gradient/tiny-graph.js';
import { tempDir } from '../fixtures/files.js';

/** The PyTorch MNIST CNN fixture (NCHW [1, 28, 28], 10 logits): a built target, nothing to train. */
const CNN = fileURLToPath(new URL('../../../test/fixtures/torch/mnist-cnn/', import.meta.url));
const original = JSON.parse(readFileSync(join(CNN, 'target.json'), 'utf8')) as TargetDescriptor;

export interface FaultFixture {
  /** The working folder: suites, targets/, run folders. */
  readonly dir: string;
  readonly targetsDir: string;
  /** Writes a suite (the base one with `change` applied) and returns its path. */
  suite(name: string, change?: (suite: Record<string, unknown>) => void): string;
}

/** A copy of the CNN target under targets/NAME with its descriptor changed. */
function variant(targetsDir: string, name: string, change: (d: TargetDescriptor) => void): void {
  mkdirSync(join(targetsDir, name), { recursive: true });
  copyFileSync(join(CNN, 'model.onnx'), join(targetsDir, name, 'model.onnx'));
  const descriptor = { ...structuredClone(original), name };
  change(descriptor);
  writeFileSync(join(targetsDir, name, 'target.json'), JSON.stringify(descriptor));
}

/** targets/rank3: a model whose output is [batch, 2, 5], described as 10 classes. */
function rankThree(targetsDir: string): void {
  const g = new TinyGraph([1, 28, 28]);
  const scores = g.node('Gemm', [g.node('Flatten', ['x']), g.weight([784, 10]), g.weight([10])]);
  const shaped = g.node('Reshape', [scores, g.int64s([-1, 2, 5])]);
  const { bytes } = g.asIs(shaped, 10);
  mkdirSync(join(targetsDir, 'rank3'), { recursive: true });
  writeFileSync(join(targetsDir, 'rank3', 'model.onnx'), bytes);
  const descriptor: TargetDescriptor = {
    ...structuredClone(original),
    name: 'rank3',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    inputName: 'x',
    outputName: shaped,
  };
  writeFileSync(join(targetsDir, 'rank3', 'target.json'), JSON.stringify(descriptor));
}

/** An image-folder data set of 28x28 grey digits-to-be whose labels.csv has a label 12. */
function labelTwelve(dir: string): string {
  const folder = join(dir, 'label-12');
  mkdirSync(join(folder, 'images'), { recursive: true });
  const rows = ['filename,label'];
  for (let i = 0; i < 8; i++) {
    const png = new PNG({ width: 28, height: 28 });
    png.data.fill(i * 30);
    writeFileSync(join(folder, 'images', `${i}.png`), PNG.sync.write(png));
    rows.push(`${i}.png,${i === 5 ? 12 : i % 4}`);
  }
  writeFileSync(join(folder, 'labels.csv'), `${rows.join('\n')}\n`);
  return folder;
}

export function faultFixture(): FaultFixture {
  const dir = tempDir('transferbench-faults-');
  const targetsDir = join(dir, 'targets');
  variant(targetsDir, 'cnn', () => {});
  // A second target: two (target, substitute) groups, so shards can be dealt in two ways.
  variant(targetsDir, 'cnn-b', () => {});
  variant(targetsDir, 'names-5', (d) => {
    d.classNames = d.classNames.slice(0, 5);
  });
  variant(targetsDir, 'names-12', (d) => {
    d.classNames = [...d.classNames, '10', '11'];
  });
  variant(targetsDir, 'says-probabilities', (d) => {
    d.outputKind = 'probabilities';
  });
  variant(targetsDir, 'says-log-probabilities', (d) => {
    d.outputKind = 'log-probabilities';
  });
  variant(targetsDir, 'says-nhwc', (d) => {
    d.layout = 'NHWC';
    d.inputShape = [28, 28, 1];
  });
  variant(targetsDir, 'range-reversed', (d) => {
    d.inputRange = [1, 0];
  });
  variant(targetsDir, 'changed-model', (d) => {
    d.sha256 = '0'.repeat(64);
  });
  rankThree(targetsDir);
  const images = labelTwelve(dir);
  const base = {
    name: 'faults',
    dataset: 'mnist-embedded',
    seed: 0,
    evaluationSize: 20,
    targets: ['cnn'],
    oracle: { mode: 'probabilities', workers: 1 },
    substitutes: [{ strategy: 'pretrained', budgets: [0], params: { model: join(targetsDir, 'cnn', 'target.json') } }],
    attacks: [{ name: 'fgsm', eps: [0.1, 0.2] }],
    labelSources: ['true'],
    examples: 2,
  };
  return {
    dir,
    targetsDir,
    suite(name, change) {
      const suite: Record<string, unknown> = structuredClone(base);
      change?.(suite);
      if (suite.dataset === 'label-12') suite.dataset = `image-folder:${images}`;
      const path = join(dir, `${name}.json`);
      writeFileSync(path, JSON.stringify({ ...suite, name }));
      return path;
    },
  };
}
