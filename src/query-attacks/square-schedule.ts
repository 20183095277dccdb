import { POSITIVE } from '../common/params.js';
import type { QueryParam } from './types.js';

/**
 * Square Attack's piecewise-constant schedule of p, the fraction of pixels a window covers:
 * halved at iterations 10, 50, 200, 500, 1,000, 2,000, 4,000, 6,000 and 8,000. The authors
 * rescale it to the iteration budget; we keep their 10,000-iteration reference (as BlackboxBench
 * does), so the attack does not depend on its budget and one run at the largest budget gives
 * the success at every smaller one exactly.
 */
export function pSchedule(pInit: number, iteration: number): number {
  const bounds = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000, 10000];
  for (let k = 0; k < bounds.length - 1; k++) {
    if (iteration > (bounds[k] as number) && iteration <= (bounds[k + 1] as number)) return pInit / 2 ** (k + 1);
  }
  return pInit;
}

/** The window side at this iteration: sqrt(p * pixels), rounded. */
export function squareSide(pInit: number, iteration: number, pixels: number): number {
  return Math.round(Math.sqrt(pSchedule(pInit, iteration) * pixels));
}

export const squareSchedule: QueryParam = {
  name: 'pInit',
  range: POSITIVE,
  description:
    "initial fraction of pixels changed per iteration (the authors' standard: 0.05 for L-inf, 0.1 for L2; " +
    'higher for robust models)',
  default: ({ norm }) => (norm === 'linf' ? 0.05 : 0.1),
};
