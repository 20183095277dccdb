import { badOption } from '../common/errors.js';
import { Random } from '../common/random.js';

/** What every training engine's loop reads: epochs, minibatch size, and the seed of the shuffle. */
export interface EpochSettings {
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly onEpoch?: (epoch: number, meanLoss: number) => void;
}

export interface LoopResult {
  readonly steps: number;
  readonly imagesSeen: number;
  readonly seconds: number;
  readonly finalLoss: number;
}

/**
 * The one training loop: `epochs` passes over `count` rows in minibatches of `batchSize`, each
 * epoch's order a seeded permutation (so both engines see the same batches in the same order),
 * `step` taking one batch's row indices and its running step number and returning the batch's loss.
 */
export async function runEpochs(
  count: number,
  settings: EpochSettings,
  step: (indices: Int32Array, stepNumber: number) => number | Promise<number>,
): Promise<LoopResult> {
  if (!(settings.epochs >= 0) || !Number.isInteger(settings.epochs))
    throw badOption('epochs', settings.epochs, 'a non-negative integer');
  if (!(settings.batchSize >= 1) || !Number.isInteger(settings.batchSize))
    throw badOption('batchSize', settings.batchSize, 'a positive integer');
  const random = new Random(settings.seed).fork('train');
  const started = performance.now();
  let steps = 0;
  let finalLoss = Number.NaN;
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    const order = random.permutation(count);
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < count; start += settings.batchSize) {
      lossSum += await step(order.subarray(start, Math.min(count, start + settings.batchSize)), steps);
      batches++;
      steps++;
    }
    finalLoss = lossSum / Math.max(1, batches);
    settings.onEpoch?.(epoch, finalLoss);
  }
  return { steps, imagesSeen: steps * settings.batchSize, seconds: (performance.now() - started) / 1000, finalLoss };
}
