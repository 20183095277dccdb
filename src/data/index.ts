import { badOption } from '../common/errors.js';
import { Random } from '../common/random.js';
import { stratifiedSplit, subset, type Dataset, type Split } from './dataset.js';
import { loadEmbeddedMnist } from './loaders/embedded-mnist.js';
import { FASHION_MNIST_DIR, loadFashionMnist } from './loaders/fashion-mnist.js';
import { loadIdxPair } from './loaders/idx.js';
import { loadNpyPair } from './loaders/npy.js';

export * from './dataset.js';
export { readIdx, loadIdxPair } from './loaders/idx.js';
export { readNpy, loadNpyPair } from './loaders/npy.js';
export { loadEmbeddedMnist } from './loaders/embedded-mnist.js';
export { loadFashionMnist, FASHION_MNIST_DIR } from './loaders/fashion-mnist.js';

export const DATASET_KINDS = ['mnist-embedded', 'fashion-mnist', 'idx', 'npy'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

/**
 * How a suite or the CLI names its data. The named sets come with a fixed split; file pairs
 * are split here, stratified and seeded.
 */
export type DatasetSpec =
  | { readonly kind: 'mnist-embedded'; readonly testFraction?: number }
  | { readonly kind: 'fashion-mnist'; readonly dir?: string }
  | { readonly kind: 'idx' | 'npy'; readonly images: string; readonly labels: string; readonly name?: string; readonly classNames?: readonly string[]; readonly testFraction?: number };

/** A dataset name on the command line: `mnist-embedded`, `fashion-mnist`, or `idx:IMAGES,LABELS` / `npy:IMAGES,LABELS`. */
export function parseDatasetSpec(text: string): DatasetSpec {
  if (text === 'mnist-embedded' || text === 'mnist') return { kind: 'mnist-embedded' };
  if (text === 'fashion-mnist') return { kind: 'fashion-mnist' };
  const match = /^(idx|npy):([^,]+),([^,]+)$/.exec(text);
  if (match) return { kind: match[1] as 'idx' | 'npy', images: match[2] as string, labels: match[3] as string };
  throw badOption('--dataset', text, `one of mnist-embedded, fashion-mnist, idx:IMAGES,LABELS, npy:IMAGES,LABELS`);
}

/** The embedded digits are split 80/20 by default: 8,000 to train on and 2,000 to evaluate. */
const DEFAULT_TEST_FRACTION = 0.2;

export function loadSplit(spec: DatasetSpec, seed: number): Split {
  switch (spec.kind) {
    case 'mnist-embedded':
      return stratifiedSplit(loadEmbeddedMnist(), spec.testFraction ?? DEFAULT_TEST_FRACTION, seed);
    case 'fashion-mnist': {
      const { train, test } = loadFashionMnist(spec.dir ?? FASHION_MNIST_DIR);
      // The official split is kept; only the order is shuffled (seeded), so that taking the
      // first n evaluation images gives a class-balanced sample.
      return { train: shuffled(train, seed), test: shuffled(test, seed + 1) };
    }
    case 'idx':
    case 'npy': {
      const load = spec.kind === 'idx' ? loadIdxPair : loadNpyPair;
      const options = { name: spec.name ?? `${spec.kind}:${spec.images}`, ...(spec.classNames ? { classNames: spec.classNames } : {}) };
      return stratifiedSplit(load(spec.images, spec.labels, options), spec.testFraction ?? DEFAULT_TEST_FRACTION, seed);
    }
  }
}

function shuffled(ds: Dataset, seed: number): Dataset {
  return subset(ds, new Random(seed).fork(`shuffle:${ds.name}`).permutation(ds.labels.length));
}
