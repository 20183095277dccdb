import { badDataset, TransferbenchError } from '../common/errors.js';
import { Random } from '../common/random.js';

/** The one shape every data set takes inside transferbench, whatever file it came from. */
export interface Dataset {
  /** Short name used in reports, e.g. "mnist-embedded" or "fashion-mnist". */
  readonly name: string;
  /** Where the data came from (a package, a path), for the manifest. */
  readonly source: string;
  /** Images, NHWC, float32 in [0, 1]; image i starts at i * height * width * channels. */
  readonly images: Float32Array;
  /** Integer class labels in [0, classNames.length). */
  readonly labels: Int32Array;
  /** [height, width, channels] of one image. */
  readonly imageShape: readonly [number, number, number];
  readonly classNames: readonly string[];
  /** A targeted attack's class per image, when the data names one (labels.csv's targeted_label column). */
  readonly targetedLabels?: Int32Array;
}

export function imageSize(ds: Pick<Dataset, 'imageShape'>): number {
  const [h, w, c] = ds.imageShape;
  return h * w * c;
}

export function countOf(ds: Dataset): number {
  return ds.labels.length;
}

/**
 * Checks the invariants every consumer relies on; loaders call it once so the rest of the
 * code can trust a Dataset.
 */
export function checkDataset(ds: Dataset): Dataset {
  const size = imageSize(ds);
  if (ds.imageShape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw badDataset(ds.name, `image shape ${JSON.stringify(ds.imageShape)} must be three positive integers`);
  }
  if (ds.images.length !== ds.labels.length * size) {
    throw badDataset(ds.name, `${ds.images.length} pixel values do not make ${ds.labels.length} images of ${size}`);
  }
  for (let i = 0; i < ds.images.length; i++) {
    const v = ds.images[i] as number;
    if (!(v >= 0 && v <= 1)) {
      throw badDataset(ds.name, `pixel ${i} (image ${Math.floor(i / size)}) is ${v}, outside [0, 1] after scaling`);
    }
  }
  const classes = ds.classNames.length;
  for (let i = 0; i < ds.labels.length; i++) {
    const y = ds.labels[i] as number;
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw badDataset(ds.name, `label ${i} is ${y}, outside [0, ${classes - 1}] for ${classes} classes`);
    }
  }
  return ds;
}

/** The images at `indices`, in that order. */
export function subset(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const size = imageSize(ds);
  const images = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] as number;
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i] as number;
  }
  const targeted = ds.targetedLabels;
  if (targeted === undefined) return { ...ds, name, images, labels };
  return { ...ds, name, images, labels, targetedLabels: Int32Array.from(indices, (i) => targeted[i] as number) };
}

export interface Split {
  readonly train: Dataset;
  readonly test: Dataset;
}

/**
 * Deterministic stratified split: each class contributes the same share to the test part,
 * chosen by a seeded shuffle, so class balance survives and the split depends only on the seed.
 */
export function stratifiedSplit(ds: Dataset, testFraction: number, seed: number): Split {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw badDataset(ds.name, `test fraction must be in (0, 1), got ${testFraction}`);
  }
  const random = new Random(seed).fork(`split:${ds.name}`);
  const byClass: number[][] = ds.classNames.map(() => []);
  ds.labels.forEach((y, i) => byClass[y]?.push(i));
  const train: number[] = [];
  const test: number[] = [];
  for (const members of byClass) {
    random.shuffle(members);
    const nTest = Math.round(members.length * testFraction);
    test.push(...members.slice(0, nTest));
    train.push(...members.slice(nTest));
  }
  random.shuffle(train);
  random.shuffle(test);
  return { train: subset(ds, train, `${ds.name}/train`), test: subset(ds, test, `${ds.name}/test`) };
}

/** The first n images (after a split, these are already shuffled). */
/** The first n images, refusing an n the data set does not have (naming both numbers and the key). */
export function takeEvaluation(ds: Dataset, n: number, key: string): Dataset {
  const count = countOf(ds);
  if (n > count)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${key} is ${n}, but the test split of ${ds.name} has ${count} images; ask for at most ${count}`,
    );
  return take(ds, n);
}

export function take(ds: Dataset, n: number): Dataset {
  const count = Math.min(n, countOf(ds));
  return subset(
    ds,
    Int32Array.from({ length: count }, (_, i) => i),
  );
}

/** Images of several data sets of the same image shape and classes, one after another. */
export function concatDatasets(parts: readonly Dataset[], name: string): Dataset {
  const first = parts[0];
  if (first === undefined) throw badDataset(name, 'nothing to concatenate');
  const images = new Float32Array(parts.reduce((n, p) => n + p.images.length, 0));
  const labels = new Int32Array(parts.reduce((n, p) => n + p.labels.length, 0));
  let pixelOffset = 0;
  let labelOffset = 0;
  for (const part of parts) {
    if (part.imageShape.join('x') !== first.imageShape.join('x')) {
      throw badDataset(name, `cannot join images of ${part.imageShape.join('x')} and ${first.imageShape.join('x')}`);
    }
    images.set(part.images, pixelOffset);
    labels.set(part.labels, labelOffset);
    pixelOffset += part.images.length;
    labelOffset += part.labels.length;
  }
  return { ...first, name, source: parts.map((p) => p.source).join(' + '), images, labels };
}
