import { POSITIVE } from '../common/params.js';
import { projectToBall } from './geometry.js';
import type { ImageTask, QueryParam } from './types.js';

/** A direction of the search basis: adds `amount` times basis vector `index` to `point`. */
export type BasisStep = (point: Float32Array, index: number, amount: number) => Float32Array;

/**
 * SimBA's loop (Guo et al. 1905.07121, after the authors' simba_single): for each basis
 * direction q in turn, try x - step q, then x + step q, keeping the first that lowers the
 * probability of the true class. Points are projected into the ball and [0, 1]; a candidate
 * the projection leaves unchanged is not queried (it could not lower anything).
 */
export async function simbaLoop(task: ImageTask, order: Int32Array, step: number, move: BasisStep): Promise<void> {
  const { clean, eps, norm } = task;
  let x = task.start ? projectToBall(task.start, clean, eps, norm) : clean.slice();
  let last = (await task.query(x, 1))[0]?.trueClassProbability as number;
  task.keep(x);
  for (const index of order) {
    for (const sign of [-1, 1]) {
      const candidate = projectToBall(move(x, index, sign * step), clean, eps, norm);
      if (candidate.every((v, i) => v === x[i])) continue;
      const probability = (await task.query(candidate, 1))[0]?.trueClassProbability as number;
      if (probability < last) {
        x = candidate;
        last = probability;
        task.keep(x);
        break;
      }
    }
  }
}

export const simbaStep = (
  lInfDefault: (eps: number, shape: readonly [number, number, number]) => number,
): QueryParam => ({
  name: 'stepSize',
  range: POSITIVE,
  description:
    "size of each basis step (the authors' 0.2 in L2; under L-inf, a step whose largest pixel change is eps)",
  default: ({ norm, eps, shape }) => (norm === 'l2' ? 0.2 : lInfDefault(eps, shape)),
});
