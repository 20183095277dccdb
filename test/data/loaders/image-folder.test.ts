import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { loadImageFolder, loadSplit, parseDatasetSpec, readLabelsCsv } from '../../../src/data/index.js';
import { parseCsv } from '../../../src/data/loaders/labels-csv.js';
import { tempDir } from '../../fixtures/files.js';

/** A width x height image whose pixel (x, y) has channel values f(x, y, c), as PNG or JPEG. */
function writeImage(file: string, width: number, height: number, f: (x: number, y: number, c: number) => number): void {
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) rgba[(y * width + x) * 4 + c] = f(x, y, c);
      rgba[(y * width + x) * 4 + 3] = 255;
    }
  }
  const bytes = file.endsWith('.png')
    ? PNG.sync.write(Object.assign(new PNG({ width, height }), { data: rgba }))
    : jpeg.encode({ width, height, data: rgba }, 100).data;
  writeFileSync(file, bytes);
}

function folder(
  rows: string,
  images: Record<string, [number, number, (x: number, y: number, c: number) => number]>,
  sub = 'images',
): string {
  const dir = tempDir('transferbench-folder-');
  mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'labels.csv'), rows);
  for (const [name, [w, h, f]] of Object.entries(images)) writeImage(join(dir, sub, name), w, h, f);
  return dir;
}

const colour = (k: number) => (x: number, y: number, c: number) => (k * 40 + x * 10 + y * 3 + c * 60) % 256;
const grey = (k: number) => (x: number, y: number) => (k * 50 + x * 20 + y) % 256;

describe('image-folder loader', () => {
  it('reads RGB PNGs in the order of labels.csv (TransferAttack columns), NHWC in [0, 1]', () => {
    const dir = folder('filename,label,targeted_label\nb.png,7,1\na.png,2,3\nc.png,0,4\n', {
      'a.png': [4, 5, colour(1)],
      'b.png': [4, 5, colour(2)],
      'c.png': [4, 5, colour(3)],
    });
    const ds = loadImageFolder(dir);
    assert.deepEqual(ds.imageShape, [5, 4, 3]);
    assert.deepEqual([...ds.labels], [7, 2, 0]);
    assert.equal(ds.classNames.length, 8);
    // Image 1 is a.png; its pixel (x=3, y=2), channel 1.
    const at = 1 * 60 + (2 * 4 + 3) * 3 + 1;
    assert.equal(ds.images[at], Math.fround(colour(1)(3, 2, 1) / 255));
  });

  it('loads grey images as one channel, and as three when asked', () => {
    const dir = folder('filename,label\ng1.png,0\ng2.png,1\n', {
      'g1.png': [3, 3, grey(1)],
      'g2.png': [3, 3, grey(2)],
    });
    const one = loadImageFolder(dir);
    assert.deepEqual(one.imageShape, [3, 3, 1]);
    assert.equal(one.images[9 + 4], Math.fround(grey(2)(1, 1) / 255));
    const three = loadImageFolder(dir, { channels: 3 });
    assert.deepEqual(three.imageShape, [3, 3, 3]);
    assert.deepEqual(
      [...three.images.subarray(12, 15)],
      [1, 1, 1].map(() => Math.fround(grey(1)(1, 1) / 255)),
    );
  });

  it('converts colour to grey with ITU-R 601 luma when one channel is asked for', () => {
    const dir = folder('filename,label\nc.png,0\n', { 'c.png': [1, 1, (_x, _y, c) => [200, 100, 50][c] as number] });
    assert.equal(
      loadImageFolder(dir, { channels: 1 }).images[0],
      Math.fround(Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 255),
    );
  });

  it('decodes JPEGs beside PNGs (flat colours within 2/255 at quality 100)', () => {
    const flat = (rgb: number[]) => (_x: number, _y: number, c: number) => rgb[c] as number;
    const dir = folder('filename,label\nj.jpg,1\np.png,0\n', {
      'j.jpg': [16, 16, flat([200, 30, 90])],
      'p.png': [16, 16, flat([10, 20, 30])],
    });
    const ds = loadImageFolder(dir);
    assert.deepEqual(ds.imageShape, [16, 16, 3]);
    for (const [c, value] of [200, 30, 90].entries())
      assert.ok(Math.abs((ds.images[8 * 3 + c] as number) - value / 255) <= 2 / 255);
  });

  it('reads images beside labels.csv when there is no images/ folder', () => {
    const dir = folder('filename,label\nx.png,0\n', { 'x.png': [2, 2, colour(0)] }, '.');
    assert.equal(loadImageFolder(dir).labels.length, 1);
  });

  it('refuses an image whose size differs from the others, naming both files', () => {
    const dir = folder('filename,label\na.png,0\nb.png,1\n', {
      'a.png': [4, 4, colour(0)],
      'b.png': [5, 4, colour(1)],
    });
    assert.throws(
      () => loadImageFolder(dir),
      (e: Error) =>
        e.message ===
        `${join(dir, 'images', 'b.png')}: image is 5x4 (width x height), ` +
          `but ${join(dir, 'images', 'a.png')} is 4x4; resize every image ` +
          `of the folder to one size`,
    );
  });

  it("refuses an image whose size differs from the model's input, naming the file and the model", () => {
    const dir = folder('filename,label\na.png,0\n', { 'a.png': [4, 4, colour(0)] });
    assert.throws(
      () => loadImageFolder(dir, { expectedShape: [8, 8, 3], expectedBy: 'surrogate.json' }),
      /a\.png: image is 4x4 \(width x height\), but surrogate\.json takes 8x8; resize the images/,
    );
    assert.throws(
      () => loadImageFolder(dir, { expectedShape: [4, 4, 1], expectedBy: 'grey.json' }),
      /images load with 3 channel\(s\) but grey\.json expects 1; pass channels: 1/,
    );
  });

  it('names the missing image, an unsupported type and an undecodable file', () => {
    const dir = folder('filename,label\nmissing.png,0\n', {});
    assert.throws(() => loadImageFolder(dir), new RegExp(`${join(dir, 'images', 'missing.png')}: file not found`));
    const bmp = folder('filename,label\nx.bmp,0\n', {});
    assert.throws(
      () => loadImageFolder(bmp),
      /x\.bmp: unsupported image type "\.bmp"; convert it to one of \.png, \.jpg, \.jpeg/,
    );
    const broken = folder('filename,label\nx.png,0\n', {});
    writeFileSync(join(broken, 'images', 'x.png'), 'not a png');
    assert.throws(() => loadImageFolder(broken), /x\.png: is neither a PNG nor a JPEG/);
  });

  it('refuses labels above the class names given', () => {
    const dir = folder('filename,label\na.png,3\n', { 'a.png': [2, 2, colour(0)] });
    assert.throws(
      () => loadImageFolder(dir, { classNames: ['a', 'b'] }),
      /a\.png has label 3, but only 2 class names are given/,
    );
  });

  it(
    'splits a folder of one image per class by a seeded shuffle (a ' + 'stratified split would leave no test images)',
    () => {
      const rows = ['filename,label', ...Array.from({ length: 10 }, (_, i) => `${i}.png,${i}`)].join('\n');
      const dir = folder(
        rows,
        Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`${i}.png`, [2, 2, colour(i)]])),
      );
      const split = loadSplit(parseDatasetSpec(`image-folder:${dir}`), 3);
      assert.equal(split.test.labels.length, 2);
      assert.equal(split.train.labels.length, 8);
      assert.deepEqual(
        [...split.train.labels, ...split.test.labels].sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      assert.deepEqual([...loadSplit(parseDatasetSpec(`image-folder:${dir}`), 3).test.labels], [...split.test.labels]);
    },
  );
});

describe('labels.csv reader', () => {
  it('reads quoted fields, CRLF line ends, a byte-order mark and columns in any order', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'labels.csv'),
      '\ufefflabel,"filename",extra\r\n5,"a, b.png",x\r\n6,"say ""hi"".png",y\r\n',
    );
    assert.deepEqual(readLabelsCsv(join(dir, 'labels.csv')), [
      { filename: 'a, b.png', label: 5 },
      { filename: 'say "hi".png', label: 6 },
    ]);
    assert.deepEqual(parseCsv('a,b\n\n1,2'), [
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  for (const [text, message] of [
    ['name,class\na.png,1\n', /labels\.csv: header is "name,class"; expected a header row "filename,label"/],
    ['filename,label\n', /labels\.csv: no rows after the header/],
    ['filename,label\na.png,1.5\n', /labels\.csv: line 2: label is "1\.5"; expected a class index, an integer >= 0/],
    ['filename,label,targeted_label\na.png,1,\n', /line 2: targeted_label is ""/],
    ['filename,label\na.png,1\na.png,2\n', /line 3: a\.png is listed again \(first on line 2\)/],
  ] as const) {
    it(`refuses ${JSON.stringify(text.split('\n')[1] || 'an empty body')} with a message naming the file`, () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'labels.csv'), text);
      assert.throws(() => readLabelsCsv(join(dir, 'labels.csv')), message);
    });
  }
});
