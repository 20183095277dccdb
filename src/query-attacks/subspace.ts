import { POSITIVE } from '../common/params.js';
import { l2, projectToBall } from './geometry.js';
import { ensembleMargin } from './guide.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * Subspace Attack (Guo, Yan and Zhang 1906.04392, NeurIPS 2019, Algorithm 1): the Bandits
 * scheme with the exploration direction taken from a surrogate instead of Gaussian noise: at
 * each step u is the margin-loss gradient of a randomly drawn surrogate, the prior g is
 * updated from two probes x + delta (g +- tau u)/|.|, and x steps by eta sign(g). The paper
 * draws u from surrogates with dropout whose ratio grows from 0.05 to 0.5; the Surrogate
 * interface runs its models as they are, so here only the choice of surrogate varies.
 * Defaults (pralab's, from the paper): tau 1, delta 0.1, prior step 0.1, image step
 * eta 1/255 at eps 8/255, eps / 8. Two probes and a success check per step.
 */
export const subspace: QueryAttack = {
  name: 'subspace',
  kind: 'hybrid',
  description: "Subspace Attack (Guo et al. 1906.04392): Bandits-style prior updates along surrogates' gradients",
  norms: ['linf', 'l2'],
  parameters: [
    {
      name: 'exploration',
      range: POSITIVE,
      description: 'tau, the weight of the surrogate direction in the probes (1)',
      default: () => 1,
    },
    { name: 'fdEta', range: POSITIVE, description: 'delta, the probe length (0.1)', default: () => 0.1 },
    {
      name: 'priorLr',
      range: POSITIVE,
      description: "the prior's step on the estimated derivative (0.1)",
      default: () => 0.1,
    },
    {
      name: 'stepSize',
      range: POSITIVE,
      description: 'image step per iteration (1/255 at eps 8/255: eps / 8)',
      default: ({ eps }) => eps / 8,
    },
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean, eps, norm } = task;
    const size = clean.length;
    const tau = numberParam(task.params, 'exploration');
    const fdEta = numberParam(task.params, 'fdEta');
    const priorLr = numberParam(task.params, 'priorLr');
    const step = numberParam(task.params, 'stepSize');
    let x = task.start ? projectToBall(task.start, clean, eps, norm) : clean.slice();
    await task.query(x, 1, 'check');
    task.keep(x);
    let prior = new Float64Array(size);
    for (;;) {
      const model = task.random.int(task.guide.models);
      const weights = Array.from({ length: task.guide.models }, (_, m) => (m === model ? 1 : 0));
      const { gradient } = await ensembleMargin(task, x, weights);
      // The loss ascended is minus the margin.
      const u = Float64Array.from(gradient, (v) => -v);
      const uLength = Math.max(l2(u), 1e-12);
      u.forEach((v, i) => (u[i] = v / uLength));
      const rows = new Float32Array(2 * size);
      for (const [k, sign] of [1, -1].entries()) {
        const q = prior.map((v, i) => v + sign * tau * (u[i] as number));
        const length = Math.max(l2(q), 1e-12);
        for (let i = 0; i < size; i++)
          rows[k * size + i] = Math.min(1, Math.max(0, (x[i] as number) + (fdEta * (q[i] as number)) / length));
      }
      const [plus, minus] = await task.query(rows, 2);
      const derivative = (-(plus?.margin as number) + (minus?.margin as number)) / (fdEta * tau);
      prior = prior.map((v, i) => v + priorLr * derivative * (u[i] as number));
      const length = norm === 'l2' ? Math.max(l2(prior), 1e-12) : 1;
      x = projectToBall(
        Float32Array.from(x, (v, i) =>
          norm === 'linf' ? v + step * Math.sign(prior[i] as number) : v + (step * (prior[i] as number)) / length,
        ),
        clean,
        eps,
        norm,
      );
      await task.query(x, 1, 'check');
      task.keep(x);
    }
  },
};
