#!/usr/bin/env node
// Writes a data set's seeded train/test split (the one a suite with that seed uses: the attacker
// owns the train part, cells are evaluated on the test part) as .npy files, so that a PyTorch
// surrogate can be trained on the attacker's own images only (bench/torch_fixtures.py
// --mnist-train DIR). Usage: node bench/export_split.mjs DIR [--dataset mnist-embedded] [--seed 0]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSplit, parseDatasetSpec } from '../dist/src/data/index.js';

function npy(array, dtype, shape) {
  const dims = `${shape.join(', ')}${shape.length === 1 ? ',' : ''}`;
  const header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic, version 1.0, header length; the header is space-padded to a 64-byte boundary, ending in \n.
  const unpadded = 10 + header.length + 1;
  const text = `${header + ' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const prefix = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(prefix);
  prefix.writeUInt16LE(text.length, 8);
  return Buffer.concat([
    prefix,
    Buffer.from(text, 'latin1'),
    Buffer.from(array.buffer, array.byteOffset, array.byteLength),
  ]);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { dataset: { type: 'string', default: 'mnist-embedded' }, seed: { type: 'string', default: '0' } },
});
const dir = positionals[0];
if (dir === undefined) throw new Error('usage: node bench/export_split.mjs DIR [--dataset NAME] [--seed N]');
const split = loadSplit(parseDatasetSpec(values.dataset), Number(values.seed));
mkdirSync(dir, { recursive: true });
for (const [prefix, part] of [
  ['', split.train],
  ['test-', split.test],
]) {
  writeFileSync(join(dir, `${prefix}images.npy`), npy(part.images, '<f4', [part.labels.length, ...part.imageShape]));
  writeFileSync(join(dir, `${prefix}labels.npy`), npy(part.labels, '<i4', [part.labels.length]));
}
process.stdout.write(
  `${dir}: ${split.train.labels.length} train and ${split.test.labels.length} test images` +
    ` of ${values.dataset}, seed ${values.seed}\n`,
);
