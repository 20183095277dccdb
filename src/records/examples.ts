/**
 * A few clean and adversarial images of a cell with the target's answers, kept in the results
 * record so `report` can draw example grids without the data set or the models. Pixels are
 * stored as base64 bytes (0..255): a grid is for looking at, and bytes keep the record small.
 */
export interface CellExamples {
  /** Image shape, NHWC without the batch. */
  readonly imageShape: readonly [number, number, number];
  /** Positions in the evaluation set (the first `count` images: the same in every cell). */
  readonly indices: readonly number[];
  readonly trueLabels: readonly number[];
  /** The target's labels for the clean images. */
  readonly targetClean: readonly number[];
  /** The target's labels for the adversarial images. */
  readonly targetAdversarial: readonly number[];
  readonly clean: string;
  readonly adversarial: string;
}

export function toBytes(pixels: Float32Array): string {
  const bytes = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, pixels[i] as number)) * 255);
  return Buffer.from(bytes).toString('base64');
}

export function fromBytes(base64: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

/** The first `count` evaluation images of a cell, clean and adversarial, with the target's labels. */
export function captureExamples(
  count: number,
  imageShape: readonly [number, number, number],
  clean: Float32Array,
  adversarial: Float32Array,
  trueLabels: Int32Array,
  targetClean: Int32Array,
  targetAdversarial: Int32Array,
): CellExamples | undefined {
  const n = Math.min(count, trueLabels.length);
  if (n === 0) return undefined;
  const size = imageShape[0] * imageShape[1] * imageShape[2];
  return {
    imageShape,
    indices: Array.from({ length: n }, (_, i) => i),
    trueLabels: Array.from(trueLabels.subarray(0, n)),
    targetClean: Array.from(targetClean.subarray(0, n)),
    targetAdversarial: Array.from(targetAdversarial.subarray(0, n)),
    clean: toBytes(clean.subarray(0, n * size)),
    adversarial: toBytes(adversarial.subarray(0, n * size)),
  };
}
