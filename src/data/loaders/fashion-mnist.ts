import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { badDataFile } from '../../common/errors.js';
import { concatDatasets, type Dataset } from '../dataset.js';
import { loadIdxPair } from './idx.js';

/** Where Debian's dataset-fashion-mnist package puts the IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

function find(dir: string, stem: string): string {
  for (const candidate of [`${stem}.gz`, stem]) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  throw badDataFile(
    join(dir, `${stem}.gz`),
    'not found',
    dir === FASHION_MNIST_DIR
      ? 'install it with `apt-get install dataset-fashion-mnist`, or pass the folder holding the IDX files'
      : 'pass the folder holding the Fashion-MNIST IDX files',
  );
}

/** Full Fashion-MNIST: 60,000 training and 10,000 test images, kept in that order. */
export function loadFashionMnist(dir = FASHION_MNIST_DIR): { train: Dataset; test: Dataset } {
  const options = { name: 'fashion-mnist', classNames: FASHION_MNIST_CLASSES };
  const train = loadIdxPair(find(dir, 'train-images-idx3-ubyte'), find(dir, 'train-labels-idx1-ubyte'), options);
  const test = loadIdxPair(find(dir, 't10k-images-idx3-ubyte'), find(dir, 't10k-labels-idx1-ubyte'), options);
  return { train, test };
}

/** All 70,000 images as one Dataset, for callers that split themselves. */
export function loadFashionMnistAll(dir = FASHION_MNIST_DIR): Dataset {
  const { train, test } = loadFashionMnist(dir);
  return concatDatasets([train, test], 'fashion-mnist');
}
