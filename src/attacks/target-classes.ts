import { TransferbenchError } from '../common/errors.js';
import { Random } from '../common/random.js';
import { argRows, logitsOf, type Crafting } from './crafting.js';

/**
 * Where a targeted attack's target classes come from (TransferAttack's and Zhao et al.'s
 * protocols): `random`, a class other than the truth drawn per image from the suite's seed;
 * `least-likely`, the class the surrogate finds least likely on the clean image (the hardest
 * target, Kurakin et al.'s); `csv`, the dataset's own `targeted_label` column (an image folder's
 * labels.csv, as TransferAttack ships the NIPS 2017 set).
 */
export const TARGET_CLASSES = ['random', 'least-likely', 'csv'] as const;
export type TargetClassSource = (typeof TARGET_CLASSES)[number];

export interface TargetClassRequest {
  readonly images: Float32Array;
  readonly trueLabels: Int32Array;
  /** Stable image ids: an image draws the same random target alone or in a batch. */
  readonly ids: readonly number[];
  readonly classes: number;
  readonly seed: number;
  /** The dataset's targeted_label column, aligned with the images (source `csv`). */
  readonly csvTargets?: Int32Array;
}

/** A class other than `truth`, uniform over the remaining ones, from the image's own stream. */
export function randomTarget(truth: number, id: number, classes: number, seed: number): number {
  const drawn = new Random(seed).fork(`target-class/${id}`).int(classes - 1);
  return drawn >= truth ? drawn + 1 : drawn;
}

/** The target class of each image under `source`. */
export function* targetClasses(source: TargetClassSource, request: TargetClassRequest): Crafting<Int32Array> {
  const n = request.trueLabels.length;
  if (request.classes < 2)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `targetClass: a targeted attack needs 2 or more classes, got ${request.classes}`,
    );
  if (source === 'random')
    return Int32Array.from(request.trueLabels, (truth, i) =>
      randomTarget(truth, request.ids[i] as number, request.classes, request.seed),
    );
  if (source === 'least-likely') return argRows(yield* logitsOf(request.images, n), request.classes, true);
  if (request.csvTargets === undefined || request.csvTargets.length !== n)
    throw new TransferbenchError(
      'BAD_CONFIG',
      'targetClass: "csv" needs a dataset with a targeted_label column (an image folder whose labels.csv has one)',
    );
  return request.csvTargets;
}
