import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { badDataFile } from '../../common/errors.js';
import { checkDataset, concatDatasets, type Dataset } from '../dataset.js';
import { readDataFile } from './raw-array.js';

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

const SIDE = 32;
const PLANE = SIDE * SIDE;
/** One record: a label byte, then the red, green and blue planes, each 32x32 row-major. */
const RECORD = 1 + 3 * PLANE;
const TRAIN_FILES = [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`);
const TEST_FILE = 'test_batch.bin';

/** Reads one file of the CIFAR-10 binary version, turning each record's CHW planes into HWC. */
export function readCifar10Batch(file: string, classNames: readonly string[] = CIFAR10_CLASSES): Dataset {
  const bytes = readDataFile(file);
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw badDataFile(
      file,
      `${bytes.length} bytes is not a whole number of ${RECORD}-byte records`,
      'expected a CIFAR-10 binary batch (1 label byte + 3072 pixel bytes per image)',
    );
  }
  const count = bytes.length / RECORD;
  const images = new Float32Array(count * 3 * PLANE);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const record = n * RECORD;
    const label = bytes[record] as number;
    if (label >= classNames.length) {
      throw badDataFile(
        file,
        `record ${n} has label ${label}, outside 0..${classNames.length - 1}`,
        "this reads CIFAR-10 (CIFAR-100's binary version has two label bytes)",
      );
    }
    labels[n] = label;
    const out = n * 3 * PLANE;
    for (let p = 0; p < PLANE; p++) {
      for (let c = 0; c < 3; c++) images[out + p * 3 + c] = (bytes[record + 1 + c * PLANE + p] as number) / 255;
    }
  }
  return checkDataset({
    name: 'cifar-10',
    source: `CIFAR-10 binary ${file}`,
    images,
    labels,
    imageShape: [SIDE, SIDE, 3],
    classNames,
  });
}

/** Class names from batches.meta.txt (one per line) when the folder has it, else CIFAR-10's. */
function classNamesIn(dir: string): readonly string[] {
  const meta = join(dir, 'batches.meta.txt');
  if (!existsSync(meta)) return CIFAR10_CLASSES;
  const names = readFileSync(meta, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (names.length !== CIFAR10_CLASSES.length)
    throw badDataFile(meta, `${names.length} class names`, 'expected 10, one per line');
  return names;
}

/**
 * The folder `cifar-10-batches-bin/`: the official split, data_batch_1..5.bin to train on (those
 * present, at least one) and test_batch.bin to evaluate.
 */
export function loadCifar10(dir: string): { train: Dataset; test: Dataset } {
  const classNames = classNamesIn(dir);
  const present = TRAIN_FILES.filter((name) => existsSync(join(dir, name)));
  if (present.length === 0) {
    throw badDataFile(
      join(dir, TRAIN_FILES[0] as string),
      'file not found',
      `expected the CIFAR-10 binary version's ${TRAIN_FILES.join(', ')} and ${TEST_FILE} in ${dir}`,
    );
  }
  const train = concatDatasets(
    present.map((name) => readCifar10Batch(join(dir, name), classNames)),
    'cifar-10/train',
  );
  const test = { ...readCifar10Batch(join(dir, TEST_FILE), classNames), name: 'cifar-10/test' };
  return { train: { ...train, source: `CIFAR-10 binary ${dir} (${present.join(', ')})` }, test };
}
