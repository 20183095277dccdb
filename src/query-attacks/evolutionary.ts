import { POSITIVE } from '../common/params.js';
import type { Random } from '../common/random.js';
import { distance } from './geometry.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/** Trials in the success-rate window that adapts mu (the 1/5th rule). */
const PAST_TRIALS = 15;

/**
 * The evolutionary attack (Dong et al. 1904.04433, CVPR 2019; after BlackboxBench's
 * `evo_attack.py`), L2: a (1+1) evolution strategy on an adversarial point x~ that keeps a
 * candidate x~ + z + mu (x0 - x~) when it is still adversarial and closer. z is drawn in an
 * m = (h/f)(w/f)c dimensional space from N(0, sigma^2 C) with sigma 0.01 |x~ - x0|, on k = m/20
 * coordinates sampled with probability ~ exp(C_ii), and upsampled bilinearly; C is a diagonal
 * covariance adapted along the evolution path (c_c 0.01, c_cov 0.001), mu by the 1/5th success rule.
 * Defaults are BlackboxBench's (f 2, mu 0.1, 100 random starting points).
 */
export const evolutionary: QueryAttack = {
  name: 'evolutionary',
  kind: 'decision-based',
  description:
    'Evolutionary attack (Dong et al. 1904.04433): a (1+1)-CMA-ES on a low-dimensional perturbation, label-only',
  norms: ['l2'],
  parameters: [
    {
      name: 'subsample',
      range: POSITIVE,
      description: 'factor f of the search space side (BlackboxBench: 2)',
      default: () => 2,
    },
    {
      name: 'mu',
      range: POSITIVE,
      description: 'initial pull towards the clean image (BlackboxBench: 0.1)',
      default: () => 0.1,
    },
    {
      name: 'initDirections',
      range: POSITIVE,
      description: 'random Gaussian points x0 + N(0, 1) tried first (100)',
      default: () => 100,
    },
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean: x0, random } = task;
    const [h, w, c] = task.shape;
    const f = numberParam(task.params, 'subsample');
    const [sh, sw] = [Math.max(1, Math.floor(h / f)), Math.max(1, Math.floor(w / f))];
    const m = sh * sw * c;
    const k = Math.max(1, Math.floor(m / 20));
    const clip = (v: Float32Array) => v.map((x) => Math.min(1, Math.max(0, x)));
    let current: Float32Array | undefined;
    if (task.start && (await task.query(task.start, 1))[0]?.adversarial) current = task.start.slice();
    if (current === undefined) {
      const tries = numberParam(task.params, 'initDirections');
      const rows = new Float32Array(tries * x0.length);
      for (let t = 0; t < tries; t++) rows.set(clip(Float32Array.from(x0, (v) => v + random.normal())), t * x0.length);
      const answers = await task.query(rows, tries);
      let best = Number.POSITIVE_INFINITY;
      answers.forEach((a, t) => {
        const candidate = rows.subarray(t * x0.length, (t + 1) * x0.length);
        if (a.adversarial && distance(candidate, x0, 'l2') < best)
          [current, best] = [candidate.slice(), distance(candidate, x0, 'l2')];
      });
    }
    if (current === undefined) return;
    let x = current;
    task.keep(x);
    let loss = distance(x, x0, 'l2');
    let mu = numberParam(task.params, 'mu');
    const cDiag = new Float64Array(m).fill(1);
    const path = new Float64Array(m);
    const upsample = bilinearZoom(sh, sw, h, w, c);
    let successes = 0;
    for (let it = 0; ; it++) {
      if (it > PAST_TRIALS && it % 5 === 0) mu *= Math.exp(successes / PAST_TRIALS - 0.2);
      const sigma = 0.01 * loss;
      const chosen = weightedSample(Array.from(cDiag, Math.exp), k, random);
      const z = new Float64Array(m);
      for (const i of chosen) z[i] = sigma * Math.sqrt(cDiag[i] as number) * random.normal();
      const up = upsample(z);
      const candidate = clip(Float32Array.from(x, (v, i) => v + (up[i] as number) + mu * ((x0[i] as number) - v)));
      const adversarial = (await task.query(candidate, 1))[0]?.adversarial === true;
      const candidateLoss = adversarial ? distance(candidate, x0, 'l2') : Number.POSITIVE_INFINITY;
      if (candidateLoss < loss) {
        x = candidate;
        loss = candidateLoss;
        task.keep(x);
        for (let i = 0; i < m; i++) {
          path[i] = 0.99 * (path[i] as number) + ((z[i] as number) * Math.sqrt(0.01 * (2 - 0.01))) / sigma;
          cDiag[i] = 0.999 * (cDiag[i] as number) + 0.001 * (path[i] as number) ** 2;
        }
        successes = Math.min(PAST_TRIALS, successes + 1);
      } else successes = Math.max(0, successes - 1);
    }
  },
};

/**
 * k distinct indices drawn with probability proportional to `weights`, without replacement (Efraimidis-Spirakis
 * keys).
 */
function weightedSample(weights: readonly number[], k: number, random: Random): number[] {
  const keys = weights.map((wt, i) => ({ i, key: Math.log(Math.max(random.next(), 1e-300)) / wt }));
  keys.sort((a, b) => b.key - a.key);
  return keys.slice(0, k).map((e) => e.i);
}

/**
 * scipy.ndimage.zoom with order 1 from sh x sw x c to h x w x c (NHWC): output pixel y reads the
 * input at y (sh - 1) / (h - 1), linearly interpolated.
 */
export function bilinearZoom(
  sh: number,
  sw: number,
  h: number,
  w: number,
  c: number,
): (z: Float64Array) => Float64Array {
  const at = (out: number, from: number, to: number) => (to <= 1 ? 0 : (out * (from - 1)) / (to - 1));
  return (z) => {
    const out = new Float64Array(h * w * c);
    for (let y = 0; y < h; y++) {
      const sy = at(y, sh, h);
      const [y0, fy] = [Math.min(Math.floor(sy), sh - 1), sy - Math.floor(sy)];
      const y1 = Math.min(y0 + 1, sh - 1);
      for (let x = 0; x < w; x++) {
        const sx = at(x, sw, w);
        const [x0, fx] = [Math.min(Math.floor(sx), sw - 1), sx - Math.floor(sx)];
        const x1 = Math.min(x0 + 1, sw - 1);
        for (let ch = 0; ch < c; ch++) {
          const v = (yy: number, xx: number) => z[(yy * sw + xx) * c + ch] as number;
          out[(y * w + x) * c + ch] =
            (1 - fy) * ((1 - fx) * v(y0, x0) + fx * v(y0, x1)) + fy * ((1 - fx) * v(y1, x0) + fx * v(y1, x1));
        }
      }
    }
    return out;
  };
}
