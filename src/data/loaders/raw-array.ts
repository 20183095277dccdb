import { readFileSync } from 'node:fs';
import { badDataFile } from '../../common/errors.js';
import type { Dataset } from '../dataset.js';

/** An n-dimensional array as read from a file, before it becomes a Dataset. */
export interface RawArray {
  readonly file: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly values: ArrayLike<number>;
}

const INTEGER_DTYPES = new Set(['uint8', 'int8', 'int16', 'int32', 'int64', 'uint16', 'uint32']);

/**
 * Turns an images array ([N,H,W] or [N,H,W,C]) and a labels array ([N]) into a Dataset.
 * uint8 pixels are scaled by 1/255; float pixels must already be in [0, 1] (checked later).
 */
export function toDataset(
  images: RawArray,
  labels: RawArray,
  options: { name: string; source: string; classNames?: readonly string[] },
): Dataset {
  if (images.shape.length !== 3 && images.shape.length !== 4) {
    throw badDataFile(
      images.file,
      `images have shape [${images.shape.join(', ')}]`,
      'expected [N, H, W] or [N, H, W, C] (NHWC)',
    );
  }
  if (labels.shape.length !== 1 && !(labels.shape.length === 2 && labels.shape[1] === 1)) {
    throw badDataFile(
      labels.file,
      `labels have shape [${labels.shape.join(', ')}]`,
      'expected [N] integer class labels',
    );
  }
  if (!INTEGER_DTYPES.has(labels.dtype)) {
    throw badDataFile(
      labels.file,
      `unsupported label dtype ${labels.dtype}`,
      'expected integer labels (uint8, int32 or int64)',
    );
  }
  const n = images.shape[0] as number;
  if (labels.shape[0] !== n) {
    throw badDataFile(
      labels.file,
      `${labels.shape[0]} labels for ${n} images in ${images.file}`,
      'pass the labels file that belongs to these images',
    );
  }
  const [h, w, c] = [images.shape[1] as number, images.shape[2] as number, (images.shape[3] ?? 1) as number];
  const scale = images.dtype === 'uint8' ? 1 / 255 : 1;
  if (images.dtype !== 'uint8' && images.dtype !== 'float32' && images.dtype !== 'float64') {
    throw badDataFile(
      images.file,
      `unsupported image dtype ${images.dtype}`,
      'expected uint8 (0..255) or float32 in [0, 1]',
    );
  }
  const pixels = new Float32Array(images.values.length);
  for (let i = 0; i < pixels.length; i++) {
    const v = (images.values[i] as number) * scale;
    if (!(v >= 0 && v <= 1)) {
      throw badDataFile(
        images.file,
        `value ${images.values[i]} at index ${i} is outside [0, 1] after scaling`,
        'store uint8 0..255 or float32 already scaled to [0, 1]',
      );
    }
    pixels[i] = v;
  }
  const labelValues = Int32Array.from(labels.values);
  const maxLabel = labelValues.reduce((m, y) => Math.max(m, y), 0);
  const classNames = options.classNames ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  return {
    name: options.name,
    source: options.source,
    images: pixels,
    labels: labelValues,
    imageShape: [h, w, c],
    classNames,
  };
}

/** readFileSync with an error that names the file and what to do about it. */
export function readDataFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const problem =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a folder, not a file'
          : `cannot be read (${code ?? 'error'})`;
    throw badDataFile(file, problem, 'check the path (relative paths are taken from the current folder)');
  }
}
