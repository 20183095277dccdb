import { POSITIVE } from '../common/params.js';
import { clipUnit, distance, gaussian, l2 } from './geometry.js';
import { firstAdversarial, initialTries } from './decision-start.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * HopSkipJumpAttack (Chen et al. 1904.02144; after the authors' hsja.py, defaults as theirs):
 * from a first adversarial point, repeat: binary search to the boundary, estimate the gradient
 * direction there from the signs of num_evals = init_evals * sqrt(t) random probes, step along
 * it with a geometric progression dist / sqrt(t), halved until the point is adversarial again.
 */
export const hopSkipJump: QueryAttack = {
  name: 'hop-skip-jump',
  kind: 'decision-based',
  description:
    'HopSkipJumpAttack (Chen et al. 1904.02144): boundary search + sign-based gradient estimates, label-only',
  norms: ['l2', 'linf'],
  parameters: [
    {
      name: 'gamma',
      range: POSITIVE,
      description: 'binary-search threshold factor (theta = gamma / d^1.5 in L2, gamma / d^2 in L-inf)',
      default: () => 1,
    },
    {
      name: 'initEvals',
      range: POSITIVE,
      description: 'gradient-estimation probes at the first iteration (grows with sqrt(t))',
      default: () => 100,
    },
    {
      name: 'maxEvals',
      range: POSITIVE,
      description: 'largest number of gradient-estimation probes per iteration',
      default: () => 10000,
    },
    initialTries,
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean, norm } = task;
    const d = clean.length;
    const theta =
      norm === 'l2'
        ? numberParam(task.params, 'gamma') / (Math.sqrt(d) * d)
        : numberParam(task.params, 'gamma') / (d * d);
    const start = await firstAdversarial(task);
    if (start === undefined) return;
    let [perturbed, distPost] = await boundarySearch(task, start, theta);
    let dist = distance(perturbed, clean, norm);
    task.keep(perturbed);
    for (let t = 1; ; t++) {
      const delta = t === 1 ? 0.1 : (norm === 'l2' ? Math.sqrt(d) : d) * theta * distPost;
      const evals = Math.min(
        Math.floor(numberParam(task.params, 'initEvals') * Math.sqrt(t)),
        numberParam(task.params, 'maxEvals'),
      );
      const gradient = await estimateGradient(task, perturbed, evals, delta);
      const update = norm === 'linf' ? gradient.map(Math.sign) : gradient;
      let step = dist / Math.sqrt(t);
      const moved = (size: number) =>
        clipUnit(Float32Array.from(perturbed, (v, i) => v + size * (update[i] as number)));
      while (!(await task.query(moved(step), 1))[0]?.adversarial) step /= 2;
      [perturbed, distPost] = await boundarySearch(task, moved(step), theta);
      dist = distance(perturbed, clean, norm);
      task.keep(perturbed);
    }
  },
};

/**
 * Binary search between the clean image and an adversarial point (L2: along the blend; L-inf:
 * over the clipping radius) to within the threshold; returns the adversarial end and the
 * point's distance before the search (which sets the next probe radius, as in the authors' code).
 */
async function boundarySearch(task: ImageTask, point: Float32Array, theta: number): Promise<[Float32Array, number]> {
  const { clean, norm } = task;
  const before = distance(point, clean, norm);
  let [low, high] = [0, norm === 'linf' ? before : 1];
  const threshold = norm === 'linf' ? Math.min(before * theta, theta) : theta;
  const project = (alpha: number) =>
    norm === 'l2'
      ? Float32Array.from(clean, (v, i) => (1 - alpha) * v + alpha * (point[i] as number))
      : Float32Array.from(clean, (v, i) => Math.min(v + alpha, Math.max(v - alpha, point[i] as number)));
  while ((high - low) / threshold > 1) {
    const mid = (high + low) / 2;
    if ((await task.query(project(mid), 1))[0]?.adversarial) high = mid;
    else low = mid;
  }
  return [project(high), before];
}

/** The sign-weighted mean of random unit probes, baseline-subtracted, as a unit vector. */
async function estimateGradient(
  task: ImageTask,
  point: Float32Array,
  evals: number,
  delta: number,
): Promise<Float64Array> {
  const d = point.length;
  const rows = new Float32Array(evals * d);
  const probes: Float64Array[] = [];
  for (let k = 0; k < evals; k++) {
    const raw =
      task.norm === 'l2'
        ? gaussian(d, task.random)
        : Float64Array.from({ length: d }, () => 2 * task.random.next() - 1);
    const scale = delta / l2(raw);
    const probe = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      const v = Math.min(1, Math.max(0, (point[i] as number) + scale * (raw[i] as number)));
      rows[k * d + i] = v;
      probe[i] = (v - (point[i] as number)) / delta;
    }
    probes.push(probe);
  }
  const answers = await task.query(rows, evals);
  const signs = answers.map((a) => (a.adversarial ? 1 : -1));
  const mean = signs.reduce((s, v) => s + v, 0) / evals;
  const gradient = new Float64Array(d);
  probes.forEach((probe, k) => {
    const weight = mean === 1 || mean === -1 ? mean : (signs[k] as number) - mean;
    for (let i = 0; i < d; i++) gradient[i] = (gradient[i] as number) + (weight * (probe[i] as number)) / evals;
  });
  const norm = Math.max(l2(gradient), 1e-12);
  return gradient.map((v) => v / norm);
}
