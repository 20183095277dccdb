import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadIdxPair, loadNpyPair, readIdx, readNpy } from '../../src/data/index.js';
import { tempDir, tinyImages, writeIdx, writeNpy } from '../fixtures/files.js';

describe('IDX loader', () => {
  const dir = tempDir();
  const { pixels, labels } = tinyImages(6, 4, 3, 3);

  for (const suffix of ['', '.gz']) {
    it(`reads an images + labels pair${suffix ? ' (gzipped)' : ''} and scales uint8 to [0, 1]`, () => {
      const images = writeIdx(join(dir, `img${suffix}`), 'uint8', [6, 4, 3], pixels);
      const labelFile = writeIdx(join(dir, `lab${suffix}`), 'uint8', [6], labels);
      const ds = loadIdxPair(images, labelFile, { name: 'tiny' });
      assert.deepEqual(ds.imageShape, [4, 3, 1]);
      assert.equal(ds.labels.length, 6);
      assert.deepEqual([...ds.labels], labels);
      assert.ok(Math.abs((ds.images[13] as number) - (pixels[13] as number) / 255) < 1e-7);
      assert.deepEqual(ds.classNames, ['0', '1', '2']);
    });
  }

  it('reads big-endian int32 and float32 payloads', () => {
    const raw = readIdx(writeIdx(join(dir, 'i32'), 'int32', [3], [1, -2, 70000]));
    assert.deepEqual(Array.from(raw.values), [1, -2, 70000]);
    const f = readIdx(writeIdx(join(dir, 'f32'), 'float32', [2], [0.5, 0.25]));
    assert.deepEqual(Array.from(f.values), [0.5, 0.25]);
  });

  it('names the file and the magic number when the magic is wrong', () => {
    const file = join(dir, 'bad-magic');
    writeFileSync(file, Buffer.from([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 0]));
    assert.throws(
      () => readIdx(file),
      (error: Error) => error.message.startsWith(`${file}: wrong magic number 0x12340801; expected an IDX file`),
    );
  });

  it('refuses a truncated file, saying how many bytes were needed', () => {
    const file = writeIdx(join(dir, 'trunc'), 'uint8', [6, 4, 3], pixels.slice(0, 50));
    assert.throws(() => readIdx(file), /truncated: shape \[6, 4, 3\] of uint8 needs 88 bytes, file has 66/);
  });

  it('refuses a corrupt gzip stream', () => {
    const file = join(dir, 'corrupt.gz');
    writeFileSync(file, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]));
    assert.throws(() => readIdx(file), /gzip stream is corrupt or truncated/);
  });

  it('refuses a count mismatch between images and labels', () => {
    const images = writeIdx(join(dir, 'img6'), 'uint8', [6, 4, 3], pixels);
    const labelFile = writeIdx(join(dir, 'lab5'), 'uint8', [5], labels.slice(0, 5));
    assert.throws(() => loadIdxPair(images, labelFile, { name: 't' }), /5 labels for 6 images/);
  });

  it('refuses float pixels outside [0, 1]', () => {
    const images = writeIdx(join(dir, 'fimg'), 'float32', [1, 2, 1], [0.5, 1.5]);
    const labelFile = writeIdx(join(dir, 'flab'), 'uint8', [1], [0]);
    assert.throws(
      () => loadIdxPair(images, labelFile, { name: 't' }),
      /value 1\.5 at index 1 is outside \[0, 1\] after scaling/,
    );
  });

  it('refuses float labels', () => {
    const images = writeIdx(join(dir, 'img1'), 'uint8', [1, 2, 1], [0, 1]);
    const labelFile = writeIdx(join(dir, 'flab2'), 'float32', [1], [0]);
    assert.throws(() => loadIdxPair(images, labelFile, { name: 't' }), /unsupported label dtype float32/);
  });

  it('names a missing file', () => {
    assert.throws(() => readIdx(join(dir, 'nope')), /nope: file not found; check the path/);
  });
});

describe('NPY loader', () => {
  const dir = tempDir();
  const { pixels, labels } = tinyImages(4, 2, 2, 2);

  it('reads uint8 images with int64 labels', () => {
    const ds = loadNpyPair(
      writeNpy(join(dir, 'x.npy'), 'uint8', [4, 2, 2], pixels),
      writeNpy(join(dir, 'y.npy'), 'int64', [4], labels),
      { name: 'n' },
    );
    assert.deepEqual(ds.imageShape, [2, 2, 1]);
    assert.deepEqual([...ds.labels], labels);
    assert.ok(Math.abs((ds.images[5] as number) - (pixels[5] as number) / 255) < 1e-7);
  });

  it('reads float32 NHWC images already in [0, 1]', () => {
    const values = Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => i / 24);
    const ds = loadNpyPair(
      writeNpy(join(dir, 'xf.npy'), 'float32', [2, 2, 2, 3], values),
      writeNpy(join(dir, 'yf.npy'), 'int32', [2], [0, 1]),
      { name: 'n' },
    );
    assert.deepEqual(ds.imageShape, [2, 2, 3]);
    assert.ok(Math.abs((ds.images[23] as number) - 23 / 24) < 1e-6);
  });

  it('refuses an unsupported dtype and says which are read', () => {
    assert.throws(
      () => readNpy(writeNpy(join(dir, 'h.npy'), 'float16', [2], [0, 0])),
      /unsupported dtype <f2; convert with arr.astype\(\.\.\.\) to one of uint8/,
    );
  });

  it('refuses Fortran order', () => {
    assert.throws(
      () => readNpy(writeNpy(join(dir, 'f.npy'), 'uint8', [2, 2], [0, 0, 0, 0], true)),
      /Fortran-ordered; save numpy.ascontiguousarray/,
    );
  });

  it('refuses a file that is not .npy', () => {
    const file = join(dir, 'not.npy');
    writeFileSync(file, 'hello world, not numpy');
    assert.throws(() => readNpy(file), /wrong magic number \(not a \.npy file\)/);
  });

  it('refuses truncated data', () => {
    const file = join(dir, 't.npy');
    writeNpy(file, 'uint8', [4, 2, 2], pixels.slice(0, 10));
    assert.throws(() => readNpy(file), /truncated: shape \[4, 2, 2\] of uint8 needs \d+ bytes/);
  });

  it('refuses float images outside [0, 1]', () => {
    assert.throws(
      () =>
        loadNpyPair(
          writeNpy(join(dir, 'xo.npy'), 'float32', [1, 1, 2], [0.1, 255]),
          writeNpy(join(dir, 'yo.npy'), 'int64', [1], [0]),
          { name: 'n' },
        ),
      /value 255 at index 1 is outside \[0, 1\]/,
    );
  });

  it('refuses images of the wrong rank', () => {
    assert.throws(
      () =>
        loadNpyPair(
          writeNpy(join(dir, 'x2.npy'), 'uint8', [2, 4], [0, 0, 0, 0, 0, 0, 0, 0]),
          writeNpy(join(dir, 'y2.npy'), 'int64', [2], [0, 1]),
          { name: 'n' },
        ),
      /images have shape \[2, 4\]; expected \[N, H, W\] or \[N, H, W, C\]/,
    );
  });
});
