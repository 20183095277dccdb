import { POSITIVE } from '../common/params.js';
import { projectToBall } from './geometry.js';
import { odsGradient, unitDirection } from './guide.js';
import { numberParam, type ImageTask, type QueryAttack, type QueryParam } from './types.js';

/** Directions in a row that moved nothing before the guided loop gives up. */
const IDLE_DIRECTIONS = 100;

/** Where the next direction comes from, given the current point (SimBA-ODS: ODS; GFCS: gradients first). */
export type DirectionSource = {
  next(x: Float32Array): Promise<Float64Array>;
  /** Told whether the last direction improved the margin. */
  outcome(improved: boolean): void;
};

/**
 * SimBA's accept-if-better loop over surrogate-drawn directions d: try x + step d, then
 * x - step d (projected into the ball and [0, 1]), keep the first that lowers the margin. The
 * plus side first, since a loss gradient's is the likely one (ODS's directions are symmetric).
 */
export async function guidedSimba(task: ImageTask, step: number, source: DirectionSource): Promise<void> {
  const { clean, eps, norm } = task;
  let x = task.start ? projectToBall(task.start, clean, eps, norm) : clean.slice();
  let margin = (await task.query(x, 1))[0]?.margin as number;
  task.keep(x);
  // Directions that move nothing (a zero gradient, or a step the projection undoes) cost no query; so many in a row
  // mean the surrogates have nothing more to offer here, and the attack gives up rather than spin.
  for (let idle = 0; idle < IDLE_DIRECTIONS; ) {
    const d = await source.next(x);
    let improved = false;
    idle++;
    for (const sign of [1, -1]) {
      const candidate = projectToBall(
        Float32Array.from(x, (v, i) => v + sign * step * (d[i] as number)),
        clean,
        eps,
        norm,
      );
      if (candidate.every((v, i) => v === x[i])) continue;
      idle = 0;
      const answer = (await task.query(candidate, 1))[0]?.margin as number;
      if (answer < margin) {
        [x, margin, improved] = [candidate, answer, true];
        task.keep(x);
        break;
      }
    }
    source.outcome(improved);
  }
}

export const guidedStep: QueryParam = {
  name: 'stepSize',
  range: POSITIVE,
  description: "step along each direction (SimBA's and ODS's 0.2 in L2; eps in L-inf, along the gradient's sign)",
  default: ({ norm, eps }) => (norm === 'l2' ? 0.2 : eps),
};

/**
 * SimBA-ODS (Tashiro, Song and Ermon 2003.06878, NeurIPS 2020): SimBA whose directions are
 * output-diversified samples from a surrogate (a model of the guide drawn at random each
 * step): the input gradient of w . z for w uniform in [-1, 1]^C, normalised.
 */
export const simbaOds: QueryAttack = {
  name: 'simba-ods',
  kind: 'hybrid',
  description:
    "SimBA-ODS (Tashiro et al. 2003.06878): SimBA along output-diversified directions of a surrogate's logits",
  norms: ['l2', 'linf'],
  parameters: [guidedStep],
  attack(task: ImageTask): Promise<void> {
    return guidedSimba(task, numberParam(task.params, 'stepSize'), {
      next: async (x) => unitDirection(await odsGradient(task, x, task.random.int(task.guide.models)), task.norm),
      outcome: () => undefined,
    });
  },
};
