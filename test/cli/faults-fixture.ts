import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** What a row needs: the fixture and the run folders made once for the rows that merge or resume. */
export interface Context extends FaultFixture {
  /** A finished one-shard run of suite `s` (2 cells); rows copy it before damaging it. */
  readonly single: string;
  /** Two shards of suite `two` (2 groups), 1/2 dealt by cost and 2/2 round robin. */
  readonly mixed: string;
  readonly two: string;
  copy(dir: string): string;
}

export interface Fault {
  /** What is wrong. */
  readonly name: string;
  /** The command line, given the context (and whatever `setup` returned). */
  readonly args: (c: Context, prepared: string) => string[];
  /**
   * Run as its own process: what needs a pid of its own (a lock), sets process-wide state (a
   * backend), or must show it does not abort. Otherwise the command runs in this process (the
   * CLI's own main and failure mapping, without 1 s of start-up per row).
   */
  readonly own?: 'process' | 'script';
  readonly setup?: (c: Context) => string;
  readonly status: number;
  /** The one line on stderr after "transferbench: " (status 0: a note, or nothing). */
  readonly stderr: (c: Context, prepared: string) => RegExp;
  /** For a command that succeeds: what its output must say. */
  readonly stdout?: (c: Context, prepared: string) => RegExp;
  /** Why the row cannot run on this machine, if it cannot (it is then skipped, saying so). */
  readonly skip?: (c: Context, prepared: string) => string | undefined;
  /** What must hold afterwards (a lock released, a temporary gone). */
  readonly after?: (c: Context, prepared: string) => void;
}

export const ORACLE = fileURLToPath(new URL('../../src/oracle/index.js', import.meta.url));
export const DESCRIPTOR = fileURLToPath(new URL('../../src/targets/descriptor.js', import.meta.url));
export const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
export const common = (c: Context) => ['--targets-dir', c.targetsDir, '--cache-dir', join(c.dir, 'cache'), '--quiet'];
export const validate = (c: Context, suite: string) => ['validate', suite, '--targets-dir', c.targetsDir];
export const onTarget = (target: string) => (s: Record<string, unknown>) => {
  s.targets = [target];
};
/** Suite `s`: two transfer cells and one query cell (square-linf on 2 images), nothing to train. */
export const withQueryCell = (s: Record<string, unknown>) => {
  s.queryAttacks = { budgets: [5], images: 2, attacks: [{ name: 'square-linf', eps: [0.1] }] };
};
export const noTemporary = (dir: string) =>
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary left',
  );
