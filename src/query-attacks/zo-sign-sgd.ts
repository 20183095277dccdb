import { POSITIVE } from '../common/params.js';
import { gaussian, projectToBall } from './geometry.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * ZO-signSGD (Liu, Chen, Chen and Hong, "signSGD via zeroth-order oracle", ICLR 2019; after
 * BlackboxBench's `zo_sign_sgd_attack.py`): the gradient of the loss (minus the margin) from q
 * forward differences (L(x + eta u) - L(x)) u / eta with Gaussian u, and a signed step. The
 * iterate's own answer is the differences' base, so every query feeds the estimate: q + 1 per
 * iteration, none a mere success check. Defaults are BlackboxBench's CIFAR-10 L-inf settings
 * (q 30, fd_eta 0.01, lr 0.01 at eps 0.05: eps / 5).
 */
export const zoSignSgd: QueryAttack = {
  name: 'zo-sign-sgd',
  kind: 'score-based',
  description: 'ZO-signSGD (Liu et al., ICLR 2019): signed steps along a forward-difference Gaussian gradient estimate',
  norms: ['linf'],
  parameters: [
    {
      name: 'samples',
      range: POSITIVE,
      description: 'forward differences q per estimate (BlackboxBench: 30)',
      default: () => 30,
    },
    {
      name: 'fdEta',
      range: POSITIVE,
      description: 'finite-difference radius (per pixel, Gaussian probes)',
      default: () => 0.01,
    },
    {
      name: 'stepSize',
      range: POSITIVE,
      description: 'signed step per iteration (0.01 at eps 0.05: eps / 5)',
      default: ({ eps }) => eps / 5,
    },
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean, eps, norm, random } = task;
    const size = clean.length;
    const q = numberParam(task.params, 'samples');
    const fdEta = numberParam(task.params, 'fdEta');
    const step = numberParam(task.params, 'stepSize');
    let x = task.start ? projectToBall(task.start, clean, eps, norm) : clean.slice();
    for (;;) {
      const directions = Array.from({ length: q }, () => gaussian(size, random));
      const rows = new Float32Array((q + 1) * size);
      rows.set(x, 0);
      directions.forEach((u, k) => {
        for (let i = 0; i < size; i++)
          rows[(k + 1) * size + i] = Math.min(1, Math.max(0, (x[i] as number) + fdEta * (u[i] as number)));
      });
      const answers = await task.query(rows, q + 1);
      task.keep(x);
      const base = -(answers[0]?.margin as number);
      const gradient = new Float64Array(size);
      directions.forEach((u, k) => {
        const derivative = (-(answers[k + 1]?.margin as number) - base) / fdEta;
        for (let i = 0; i < size; i++) gradient[i] = (gradient[i] as number) + derivative * (u[i] as number);
      });
      x = projectToBall(
        Float32Array.from(x, (v, i) => v + step * Math.sign(gradient[i] as number)),
        clean,
        eps,
        norm,
      );
    }
  },
};
