import { POSITIVE } from '../common/params.js';
import { gaussian, l2, projectToBall } from './geometry.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * NES's gradient estimate (Ilyas et al. 1804.08598, Algorithm 1): antithetic Gaussian probes
 * x +- sigma u_i, g = sum_i (L(x + sigma u_i) - L(x - sigma u_i)) u_i / (2 n sigma). With one
 * pair along a fixed u it is the central finite difference along u, times u.
 */
export function nesEstimate(
  directions: readonly Float64Array[],
  plus: readonly number[],
  minus: readonly number[],
  sigma: number,
): Float64Array {
  const size = directions[0]?.length ?? 0;
  const g = new Float64Array(size);
  directions.forEach((u, k) => {
    const weight = ((plus[k] as number) - (minus[k] as number)) / (2 * directions.length * sigma);
    for (let i = 0; i < size; i++) g[i] = (g[i] as number) + weight * (u[i] as number);
  });
  return g;
}

/**
 * NES (Ilyas et al. 1804.08598): projected gradient descent on the margin loss with the gradient
 * estimated from antithetic Gaussian probes. The paper's ImageNet settings are sigma 0.001,
 * 50 probes (25 antithetic pairs) per estimate and a learning rate of 0.01 at eps 0.05, which
 * is eps / 5 here. Each iteration queries its 2n probes and then the new iterate (the success
 * check: a probe is rarely adversarial before its iterate is).
 */
export const nes: QueryAttack = {
  name: 'nes',
  kind: 'score-based',
  description:
    'NES (Ilyas et al. 1804.08598): projected gradient steps on the margin, the gradient from antithetic ' +
    'Gaussian probes',
  norms: ['linf', 'l2'],
  parameters: [
    {
      name: 'pairs',
      range: POSITIVE,
      description: 'antithetic probe pairs per gradient estimate (the paper: 25, 50 probes)',
      default: () => 25,
    },
    {
      name: 'sigma',
      range: POSITIVE,
      description: 'probe radius (the paper: 0.001 on [0, 1] images)',
      default: () => 0.001,
    },
    {
      name: 'stepSize',
      range: POSITIVE,
      description: "step per iteration (the paper's 0.01 at eps 0.05: eps / 5)",
      default: ({ eps }) => eps / 5,
    },
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean, eps, norm, random } = task;
    const size = clean.length;
    const pairs = numberParam(task.params, 'pairs');
    const sigma = numberParam(task.params, 'sigma');
    const step = numberParam(task.params, 'stepSize');
    let x = task.start ? projectToBall(task.start, clean, eps, norm) : clean.slice();
    await task.query(x, 1, 'check');
    task.keep(x);
    for (;;) {
      const directions = Array.from({ length: pairs }, () => gaussian(size, random));
      const probes = new Float32Array(2 * pairs * size);
      directions.forEach((u, k) => {
        for (let i = 0; i < size; i++) {
          probes[2 * k * size + i] = (x[i] as number) + sigma * (u[i] as number);
          probes[(2 * k + 1) * size + i] = (x[i] as number) - sigma * (u[i] as number);
        }
      });
      const answers = await task.query(probes, 2 * pairs);
      const g = nesEstimate(
        directions,
        directions.map((_, k) => answers[2 * k]?.margin as number),
        directions.map((_, k) => answers[2 * k + 1]?.margin as number),
        sigma,
      );
      // Descend the margin: L-inf by the sign, L2 along the normalised estimate.
      const scale = norm === 'l2' ? step / Math.max(l2(g), 1e-12) : step;
      const moved = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        const gi = g[i] as number;
        moved[i] = (x[i] as number) - scale * (norm === 'l2' ? gi : Math.sign(gi));
      }
      x = projectToBall(moved, clean, eps, norm);
      await task.query(x, 1, 'check');
      task.keep(x);
    }
  },
};
