import { POSITIVE } from '../common/params.js';
import { projectToBall } from './geometry.js';
import { ensembleMargin, unitDirection } from './guide.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/** Weight searches after which the weight step halves once per round over the models (pralab's LR_BOOTSTRAP). */
const STEP_BOOTSTRAP = 5;

/**
 * BASES (Cai, Wang, Kim, Bhatt, Chuah et al. 2208.03610, NeurIPS 2022; after pralab's
 * TransferBench `bases.py`): a perturbation machine crafts the example by PGD on the weighted
 * sum of the surrogates' margins, and the query budget is spent searching the ensemble weights
 * instead of pixels: each round moves one model's weight down and then up by the weight step
 * (weights renormalised by softmax, as pralab's), re-runs the PGD from the current example for
 * each, queries both, and keeps the side with the lower target margin. Defaults: 10 PGD
 * iterations with step 3 eps / 10 (the paper's), weight step 5e-3 halved every round over the
 * models after the first 5.
 */
export const bases: QueryAttack = {
  name: 'bases',
  kind: 'hybrid',
  description: 'BASES (Cai et al. 2208.03610): PGD on a weighted surrogate ensemble, the queries searching its weights',
  norms: ['linf', 'l2'],
  parameters: [
    {
      name: 'iterations',
      range: POSITIVE,
      description: 'PGD iterations per example (the paper: 10)',
      default: () => 10,
    },
    {
      name: 'stepSize',
      range: POSITIVE,
      description: 'PGD step (the paper: 3 eps / 10)',
      default: ({ eps }) => (3 * eps) / 10,
    },
    {
      name: 'weightStep',
      range: POSITIVE,
      description: "the weights' search step (pralab: 5e-3)",
      default: () => 5e-3,
    },
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean, eps, norm } = task;
    const models = task.guide.models;
    const iterations = numberParam(task.params, 'iterations');
    const step = numberParam(task.params, 'stepSize');
    let weightStep = numberParam(task.params, 'weightStep');
    const pgd = async (from: Float32Array, weights: readonly number[]) => {
      let x = from;
      for (let t = 0; t < iterations; t++) {
        const { gradient } = await ensembleMargin(task, x, weights);
        const d = unitDirection(
          gradient.map((v) => -v),
          norm,
        );
        x = projectToBall(
          Float32Array.from(x, (v, i) => v + step * (d[i] as number)),
          clean,
          eps,
          norm,
        );
      }
      return x;
    };
    let weights = softmax(new Array<number>(models).fill(1 / models));
    let current = await pgd(task.start ? projectToBall(task.start, clean, eps, norm) : clean, weights);
    await task.query(current, 1);
    task.keep(current);
    for (let round = 0; ; round++) {
      const m = round % models;
      const moved = (delta: number) => softmax(weights.map((w, k) => (k === m ? w + delta : w)));
      const [left, right] = [moved(-weightStep), moved(weightStep)];
      const leftExample = await pgd(current, left);
      const leftMargin = (await task.query(leftExample, 1))[0]?.margin as number;
      // As pralab's: the right side starts from the example before the left side's PGD.
      const rightExample = await pgd(current, right);
      const rightMargin = (await task.query(rightExample, 1))[0]?.margin as number;
      [weights, current] = leftMargin < rightMargin ? [left, leftExample] : [right, rightExample];
      task.keep(current);
      if (round > STEP_BOOTSTRAP && round % models === 0) weightStep /= 2;
    }
  },
};

function softmax(values: readonly number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
