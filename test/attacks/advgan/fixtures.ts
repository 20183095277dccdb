import assert from 'node:assert/strict';
import type { AdvGanOptions } from '../../../src/attacks/advgan/train.js';

/** AdvGAN on digits, with small batches for the tests. */
export const SHAPE = [28, 28, 1] as const;
export const OPTIONS: AdvGanOptions = {
  eps: 0.3,
  epochs: 1,
  batchSize: 8,
  learningRate: 1e-3,
  alpha: 1,
  beta: 1,
  hingeBound: 3,
  confidence: 0,
  targeted: false,
  seed: 4,
};

export const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs((a[k] as number) - (b[k] as number)));
  return worst;
};
