import { POSITIVE } from '../common/params.js';
import { l2, projectToBall } from './geometry.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * Bandits-TD (Ilyas, Engstrom and Madry 1807.07978; after BlackboxBench's `bandit_attack.py`,
 * itself SignHunter's copy of the authors' code): a prior v over a coarse tile grid (the "T",
 * time: kept across iterations; the "D", data: tiled, so neighbouring pixels share it) is
 * updated from two antithetic probes x + eta (v +- delta u)/|.| per iteration, exponentiated
 * gradient in L-inf and plain gradient steps in L2; the image then steps along the upsampled prior.
 * Defaults are BlackboxBench's CIFAR-10 L-inf settings (lr 0.01 at eps 0.05: eps / 5; fd_eta
 * 0.01, prior_lr 0.1, exploration 0.1, a 20x20 prior on 32x32 images, nearest upsampling).
 */
export const bandits: QueryAttack = {
  name: 'bandits-td',
  kind: 'score-based',
  description:
    'Bandits-TD (Ilyas et al. 1807.07978): a tiled, time-kept gradient prior updated from two antithetic ' +
    'probes per step',
  norms: ['linf', 'l2'],
  parameters: [
    {
      name: 'stepSize',
      range: POSITIVE,
      description: 'image step per iteration (BlackboxBench: 0.01 at eps 0.05)',
      default: ({ eps }) => eps / 5,
    },
    {
      name: 'fdEta',
      range: POSITIVE,
      description: 'finite-difference probe length (L2 length of the probe step)',
      default: () => 0.01,
    },
    {
      name: 'priorLr',
      range: POSITIVE,
      description: 'learning rate of the prior (exponentiated gradient in L-inf)',
      default: () => 0.1,
    },
    {
      name: 'exploration',
      range: POSITIVE,
      description: 'exploration noise delta added to the prior in the probes',
      default: () => 0.1,
    },
    {
      name: 'priorSize',
      range: POSITIVE,
      description: 'side of the tiled prior (BlackboxBench: 20 on 32x32 images, so 20/32 of the side)',
      default: ({ shape: [h] }) => Math.max(1, Math.round((h * 20) / 32)),
    },
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean, eps, norm, random } = task;
    const [h, w, c] = task.shape;
    const step = numberParam(task.params, 'stepSize');
    const fdEta = numberParam(task.params, 'fdEta');
    const priorLr = numberParam(task.params, 'priorLr');
    const exploration = numberParam(task.params, 'exploration');
    const side = Math.min(numberParam(task.params, 'priorSize'), h, w);
    const upsample = nearestUpsample(side, h, w, c);
    const size = clean.length;
    let prior = new Float64Array(side * side * c);
    let x = task.start ? projectToBall(task.start, clean, eps, norm) : clean.slice();
    await task.query(x, 1, 'check');
    task.keep(x);
    const probe = (direction: Float64Array, rows: Float32Array, offset: number) => {
      const up = upsample(direction);
      const length = Math.max(l2(up), 1e-12);
      for (let i = 0; i < size; i++)
        rows[offset + i] = Math.min(1, Math.max(0, (x[i] as number) + (fdEta * (up[i] as number)) / length));
    };
    for (;;) {
      const noise = Float64Array.from(prior, () => random.normal());
      const rows = new Float32Array(2 * size);
      probe(
        prior.map((v, i) => v + exploration * (noise[i] as number)),
        rows,
        0,
      );
      probe(
        prior.map((v, i) => v - exploration * (noise[i] as number)),
        rows,
        size,
      );
      const [plus, minus] = await task.query(rows, 2);
      // The loss ascended is minus the margin.
      const derivative = (-(plus?.margin as number) + (minus?.margin as number)) / (fdEta * exploration);
      prior =
        norm === 'linf'
          ? prior.map((v, i) =>
              Math.tanh(Math.atanh(Math.max(-1, Math.min(1, v))) + priorLr * derivative * (noise[i] as number)),
            )
          : prior.map((v, i) => v + priorLr * derivative * (noise[i] as number));
      const gradient = upsample(prior);
      const length = norm === 'l2' ? Math.max(l2(gradient), 1e-12) : 1;
      const moved = Float32Array.from(x, (v, i) =>
        norm === 'linf' ? v + step * Math.sign(gradient[i] as number) : v + (step * (gradient[i] as number)) / length,
      );
      x = projectToBall(moved, clean, eps, norm);
      await task.query(x, 1, 'check');
      task.keep(x);
    }
  },
};

/**
 * Nearest-neighbour upsampling of a side x side x c grid to h x w x c (NHWC), as
 * torch.nn.functional.interpolate's default mode: source index floor(i * side / h).
 */
export function nearestUpsample(side: number, h: number, w: number, c: number): (grid: Float64Array) => Float64Array {
  const source = new Int32Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let ch = 0; ch < c; ch++)
        source[(y * w + x) * c + ch] = (Math.floor((y * side) / h) * side + Math.floor((x * side) / w)) * c + ch;
  return (grid) => Float64Array.from(source, (j) => grid[j] as number);
}
