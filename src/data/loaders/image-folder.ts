import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { badDataFile, badOption } from '../../common/errors.js';
import { checkDataset, type Dataset } from '../dataset.js';
import { decodeImage, type DecodedImage } from './decode-image.js';
import { readLabelsCsv } from './labels-csv.js';

export interface ImageFolderOptions {
  readonly name?: string;
  readonly classNames?: readonly string[];
  /**
   * 3: RGB (grey images repeated on three channels); 1: grey (colour images converted with
   * ITU-R 601 luma, as PIL's convert('L')). Default: 1 when no image has any colour, else 3.
   */
  readonly channels?: 1 | 3;
  /** The model input the images are for, [H, W, C]: a different image size is refused up front. */
  readonly expectedShape?: readonly [number, number, number];
  /** What expectedShape belongs to, for the error (e.g. the descriptor's path). */
  readonly expectedBy?: string;
}

/**
 * A folder in the layout TransferAttack reads (the NIPS 2017 development set's): `labels.csv`
 * (see labels-csv.ts) and the images it names under `images/` (or beside labels.csv when there
 * is no images/ folder), PNG or JPEG, all of one size. Images are taken in the order of
 * labels.csv and never resized: a size that differs is an error naming the file.
 */
export function loadImageFolder(dir: string, options: ImageFolderOptions = {}): Dataset {
  const labelsFile = join(dir, 'labels.csv');
  if (!existsSync(labelsFile)) {
    throw badDataFile(
      labelsFile,
      'file not found',
      'an image folder needs a labels.csv with columns filename,label beside an images/ folder',
    );
  }
  const imagesDir =
    existsSync(join(dir, 'images')) && statSync(join(dir, 'images')).isDirectory() ? join(dir, 'images') : dir;
  const rows = readLabelsCsv(labelsFile);
  const decoded: DecodedImage[] = [];
  for (const row of rows) {
    const image = decodeImage(join(imagesDir, row.filename));
    checkSize(image, decoded[0], options);
    decoded.push(image);
  }
  const channels = options.channels ?? (decoded.every((image) => image.grey) ? 1 : 3);
  const first = decoded[0] as DecodedImage;
  if (options.expectedShape && options.expectedShape[2] !== channels) {
    throw badDataFile(
      imagesDir,
      `images load with ${channels} channel(s) but ${options.expectedBy ?? 'the model'} ` +
        `expects ${options.expectedShape[2]}`,
      `pass channels: ${options.expectedShape[2]} to convert them`,
    );
  }
  const size = first.width * first.height * channels;
  const images = new Float32Array(decoded.length * size);
  decoded.forEach((image, i) => writePixels(image, channels, images.subarray(i * size, (i + 1) * size)));
  const labels = Int32Array.from(rows, (row) => row.label);
  const maxLabel = labels.reduce((m, y) => Math.max(m, y), 0);
  if (options.classNames && maxLabel >= options.classNames.length) {
    const row = rows.find((r) => r.label === maxLabel);
    throw badDataFile(
      labelsFile,
      `${row?.filename} has label ${maxLabel}, but only ${options.classNames.length} class names are given`,
      'fix the label or the class names',
    );
  }
  return checkDataset({
    name: options.name ?? `image-folder:${dir}`,
    source: `image folder ${dir} (${rows.length} images, labels.csv)`,
    images,
    labels,
    imageShape: [first.height, first.width, channels],
    classNames: options.classNames ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i)),
    // Every row names a target or the column is not used: a half-filled column is no protocol.
    ...(rows.every((row) => row.targetedLabel !== undefined)
      ? { targetedLabels: Int32Array.from(rows, (row) => row.targetedLabel as number) }
      : {}),
  });
}

/** Every image must have the size of the first (and of the model input, when one is given). */
function checkSize(image: DecodedImage, first: DecodedImage | undefined, options: ImageFolderOptions): void {
  const size = `${image.width}x${image.height}`;
  const expected = options.expectedShape;
  if (expected && (expected[0] !== image.height || expected[1] !== image.width)) {
    throw badDataFile(
      image.file,
      `image is ${size} (width x height), but ${options.expectedBy ?? 'the model'} takes ${expected[1]}x${expected[0]}`,
      'resize the images to the model input',
    );
  }
  if (first && (first.width !== image.width || first.height !== image.height)) {
    throw badDataFile(
      image.file,
      `image is ${size} (width x height), but ${first.file} is ${first.width}x${first.height}`,
      'resize every image of the folder to one size',
    );
  }
}

/** 8-bit RGB -> [0, 1] floats, NHWC, on 1 or 3 channels. */
function writePixels(image: DecodedImage, channels: number, out: Float32Array): void {
  const rgb = image.rgb;
  if (channels === 3) {
    for (let i = 0; i < rgb.length; i++) out[i] = (rgb[i] as number) / 255;
    return;
  }
  for (let p = 0, q = 0; q < out.length; p += 3, q++) {
    const luma = image.grey
      ? (rgb[p] as number)
      : 0.299 * (rgb[p] as number) + 0.587 * (rgb[p + 1] as number) + 0.114 * (rgb[p + 2] as number);
    out[q] = Math.round(luma) / 255;
  }
}

/** Checks a channels option read from text (the CLI or a suite). */
export function parseChannels(value: unknown, key: string): 1 | 3 {
  if (value === 1 || value === 3) return value;
  throw badOption(key, value, '1 (grey) or 3 (RGB)');
}
