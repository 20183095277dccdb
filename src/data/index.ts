import { badOption } from '../common/errors.js';
import { Random } from '../common/random.js';
import { stratifiedSplit, subset, type Dataset, type Split } from './dataset.js';
import { loadCifar10 } from './loaders/cifar10.js';
import { loadEmbeddedMnist } from './loaders/embedded-mnist.js';
import { FASHION_MNIST_DIR, loadFashionMnist } from './loaders/fashion-mnist.js';
import { loadIdxPair } from './loaders/idx.js';
import { loadImageFolder } from './loaders/image-folder.js';
import { loadNpyPair } from './loaders/npy.js';

export * from './dataset.js';
export { readIdx, loadIdxPair } from './loaders/idx.js';
export { readNpy, loadNpyPair } from './loaders/npy.js';
export { loadEmbeddedMnist } from './loaders/embedded-mnist.js';
export { loadFashionMnist, FASHION_MNIST_DIR } from './loaders/fashion-mnist.js';
export { loadImageFolder, type ImageFolderOptions } from './loaders/image-folder.js';
export { readLabelsCsv, type LabelRow } from './loaders/labels-csv.js';
export { decodeImage, IMAGE_EXTENSIONS } from './loaders/decode-image.js';
export { loadCifar10, readCifar10Batch, CIFAR10_CLASSES } from './loaders/cifar10.js';

export const DATASET_KINDS = ['mnist-embedded', 'fashion-mnist', 'idx', 'npy', 'image-folder', 'cifar10'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

/**
 * How a suite or the CLI names its data. The named sets come with a fixed split; file pairs
 * are split here, stratified and seeded.
 */
export type DatasetSpec =
  | { readonly kind: 'mnist-embedded'; readonly testFraction?: number }
  | { readonly kind: 'fashion-mnist'; readonly dir?: string }
  | {
      readonly kind: 'idx' | 'npy';
      readonly images: string;
      readonly labels: string;
      readonly name?: string;
      readonly classNames?: readonly string[];
      readonly testFraction?: number;
    }
  | {
      readonly kind: 'image-folder';
      readonly dir: string;
      readonly name?: string;
      readonly classNames?: readonly string[];
      readonly channels?: 1 | 3;
      readonly testFraction?: number;
    }
  | { readonly kind: 'cifar10'; readonly dir: string };

/**
 * A dataset name on the command line: `mnist-embedded`, `fashion-mnist`, `idx:IMAGES,LABELS` /
 * `npy:IMAGES,LABELS`, `image-folder:DIR` (labels.csv + images/) or `cifar10:DIR` (the binary version).
 */
export function parseDatasetSpec(text: string): DatasetSpec {
  if (text === 'mnist-embedded' || text === 'mnist') return { kind: 'mnist-embedded' };
  if (text === 'fashion-mnist') return { kind: 'fashion-mnist' };
  const match = /^(idx|npy):([^,]+),([^,]+)$/.exec(text);
  if (match) return { kind: match[1] as 'idx' | 'npy', images: match[2] as string, labels: match[3] as string };
  const folder = /^(image-folder|cifar10):(.+)$/.exec(text);
  if (folder) return { kind: folder[1] as 'image-folder' | 'cifar10', dir: folder[2] as string };
  throw badOption(
    '--dataset',
    text,
    `one of mnist-embedded, fashion-mnist, idx:IMAGES,LABELS, npy:IMAGES,LABELS, image-folder:DIR, cifar10:DIR`,
  );
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
      const options = {
        name: spec.name ?? `${spec.kind}:${spec.images}`,
        ...(spec.classNames ? { classNames: spec.classNames } : {}),
      };
      return stratifiedSplit(load(spec.images, spec.labels, options), spec.testFraction ?? DEFAULT_TEST_FRACTION, seed);
    }
    case 'image-folder': {
      const { dir, testFraction, ...options } = spec;
      return folderSplit(loadImageFolder(dir, options), testFraction ?? DEFAULT_TEST_FRACTION, seed);
    }
    case 'cifar10': {
      const { train, test } = loadCifar10(spec.dir);
      return { train: shuffled(train, seed), test: shuffled(test, seed + 1) };
    }
  }
}

/**
 * Stratified when every class has at least two images; a folder such as the NIPS 2017
 * development set (1,000 images over 1,000 classes) would get no test images that way, so it is
 * split by a plain seeded shuffle instead.
 */
function folderSplit(ds: Dataset, testFraction: number, seed: number): Split {
  if (!(testFraction > 0 && testFraction < 1))
    throw badOption(`dataset ${ds.name}: testFraction`, testFraction, 'a number in (0, 1)');
  const perClass = new Map<number, number>();
  ds.labels.forEach((y) => perClass.set(y, (perClass.get(y) ?? 0) + 1));
  if ([...perClass.values()].every((n) => n >= 2)) return stratifiedSplit(ds, testFraction, seed);
  const order = new Random(seed).fork(`split:${ds.name}`).permutation(ds.labels.length);
  const nTest = Math.max(1, Math.round(order.length * testFraction));
  return {
    test: subset(ds, order.slice(0, nTest), `${ds.name}/test`),
    train: subset(ds, order.slice(nTest), `${ds.name}/train`),
  };
}

function shuffled(ds: Dataset, seed: number): Dataset {
  return subset(ds, new Random(seed).fork(`shuffle:${ds.name}`).permutation(ds.labels.length));
}
