import * as ort from 'onnxruntime-node';

/** The training step model's input names for the batch (model.ts's STEP_IO). */
export interface StepInputNames {
  readonly images: string;
  readonly targets: string;
  readonly sampleWeights: string;
}

/** A step's rows: `count` images (NHWC), their targets, loss weights and one mask per Dropout layer. */
export interface StepRows {
  readonly count: number;
  readonly images: Float32Array;
  readonly targets: Float32Array;
  readonly sampleWeights: Float32Array;
  readonly masks: readonly Float32Array[];
}

/**
 * What the step model reads besides the batch: the image and class shapes, the masks' and weights' names and shapes.
 */
export interface StepLayout {
  readonly imageShape: readonly number[];
  readonly classes: number;
  readonly masks: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly weights: readonly { readonly name: string; readonly shape: readonly number[] }[];
}

/**
 * The feeds of one training step: the rows and the current weights. Kept apart from the trainer
 * (onnxruntime only, no tfjs) so that a replica's worker thread builds them the same way.
 */
export function stepFeeds(
  io: StepInputNames,
  rows: StepRows,
  layout: StepLayout,
  weights: readonly Float32Array[],
): Record<string, ort.Tensor> {
  const n = rows.count;
  const feeds: Record<string, ort.Tensor> = {
    [io.images]: new ort.Tensor('float32', rows.images, [n, ...layout.imageShape]),
    [io.targets]: new ort.Tensor('float32', rows.targets, [n, layout.classes]),
    [io.sampleWeights]: new ort.Tensor('float32', rows.sampleWeights, [n]),
  };
  layout.masks.forEach(
    (m, i) => (feeds[m.name] = new ort.Tensor('float32', rows.masks[i] as Float32Array, [n, ...m.shape])),
  );
  layout.weights.forEach(
    (w, i) => (feeds[w.name] = new ort.Tensor('float32', weights[i] as Float32Array, [...w.shape])),
  );
  return feeds;
}

/** The first value of a named session output; a missing output is a graph-building bug, so it throws. */
export function scalarOutput(out: ort.InferenceSession.ReturnType, name: string): number {
  const value = (out[name]?.data as Float32Array | undefined)?.[0];
  if (value === undefined) throw new Error(`session output ${name} is missing`);
  return value;
}
