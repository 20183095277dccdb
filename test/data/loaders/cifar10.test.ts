import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CIFAR10_CLASSES,
  loadCifar10,
  loadSplit,
  parseDatasetSpec,
  readCifar10Batch,
} from '../../../src/data/index.js';
import { tempDir } from '../../fixtures/files.js';

/** Records whose pixel (c, y, x) is (n * 31 + c * 7 + y + x) % 256, label labels[n]. */
function batch(labels: number[]): Buffer {
  const out = Buffer.alloc(labels.length * 3073);
  labels.forEach((label, n) => {
    out[n * 3073] = label;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) out[n * 3073 + 1 + c * 1024 + y * 32 + x] = (n * 31 + c * 7 + y + x) % 256;
  });
  return out;
}

describe('CIFAR-10 binary loader', () => {
  it("turns each record's CHW planes into an HWC image in [0, 1] with its label", () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'data_batch_1.bin'), batch([3, 9, 0]));
    const ds = readCifar10Batch(join(dir, 'data_batch_1.bin'));
    assert.deepEqual(ds.imageShape, [32, 32, 3]);
    assert.deepEqual([...ds.labels], [3, 9, 0]);
    assert.deepEqual(ds.classNames, CIFAR10_CLASSES);
    // Image 2, pixel (y = 5, x = 17), channel 2.
    assert.equal(ds.images[2 * 3072 + (5 * 32 + 17) * 3 + 2], Math.fround(((2 * 31 + 2 * 7 + 5 + 17) % 256) / 255));
  });

  it('keeps the official split (data_batch_* to train, test_batch to evaluate) and reads batches.meta.txt', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'data_batch_1.bin'), batch([1, 2]));
    writeFileSync(join(dir, 'data_batch_2.bin'), batch([3]));
    writeFileSync(join(dir, 'test_batch.bin'), batch([4, 5, 6, 7]));
    writeFileSync(join(dir, 'batches.meta.txt'), `${CIFAR10_CLASSES.map((c) => c.toUpperCase()).join('\n')}\n\n`);
    const { train, test } = loadCifar10(dir);
    assert.deepEqual([...train.labels], [1, 2, 3]);
    assert.deepEqual([...test.labels], [4, 5, 6, 7]);
    assert.equal(train.classNames[0], 'AIRPLANE');
    const split = loadSplit(parseDatasetSpec(`cifar10:${dir}`), 1);
    assert.deepEqual([...split.train.labels].sort(), [1, 2, 3]);
    assert.deepEqual([...split.test.labels].sort(), [4, 5, 6, 7]);
  });

  it('refuses a file that is not whole records, a label past 9 and a folder without batches', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'short.bin'), Buffer.alloc(3000));
    assert.throws(
      () => readCifar10Batch(join(dir, 'short.bin')),
      /short\.bin: 3000 bytes is not a whole number of 3073-byte records/,
    );
    writeFileSync(join(dir, 'label.bin'), batch([0, 12]));
    assert.throws(() => readCifar10Batch(join(dir, 'label.bin')), /label\.bin: record 1 has label 12, outside 0\.\.9/);
    assert.throws(
      () => loadCifar10(tempDir()),
      /data_batch_1\.bin: file not found; expected the CIFAR-10 binary version's data_batch_1\.bin/,
    );
  });
});
