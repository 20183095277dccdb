import type { Random } from '../common/random.js';
import { clipUnit, l2, projectToBall } from './geometry.js';
import { squareSide, squareSchedule } from './square-schedule.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * Square Attack, L2 (Andriushchenko et al. 1912.00049; after the authors' square_attack_l2):
 * the perturbation is a sum of "meta pseudo-Gaussian" bumps; each iteration moves the mass of a
 * second random window into a new bump on the first, rescaled so the whole stays on the eps
 * sphere, and keeps the change if the margin loss falls.
 */
export const squareL2: QueryAttack = {
  name: 'square-l2',
  kind: 'score-based',
  description:
    'Square Attack, L2 (Andriushchenko et al. 1912.00049): pseudo-Gaussian ' +
    'square updates on the eps sphere, margin loss',
  norms: ['l2'],
  parameters: [squareSchedule],
  async attack(task: ImageTask): Promise<void> {
    const { clean, eps, random, shape } = task;
    const [h, w, c] = shape;
    const at = (y: number, x: number, ch: number) => (y * w + x) * c + ch;
    let best: Float32Array;
    if (task.start) best = projectToBall(task.start, clean, eps, 'l2');
    else {
      const init = new Float32Array(clean.length);
      const s = Math.max(1, Math.floor(h / 5));
      const offset = Math.floor((h - s * 5) / 2);
      for (let by = 0; by < Math.floor(h / s); by++) {
        for (let bx = 0; bx < Math.floor(w / s); bx++) {
          const bump = metaPseudoGaussian(s, random);
          const signs = Array.from({ length: c }, () => (random.next() < 0.5 ? -1 : 1));
          for (let y = 0; y < s; y++)
            for (let x = 0; x < s; x++)
              for (let ch = 0; ch < c; ch++) {
                const yy = offset + by * s + y;
                const xx = offset + bx * s + x;
                if (yy < h && xx < w)
                  init[at(yy, xx, ch)] =
                    (init[at(yy, xx, ch)] as number) + (bump[y * s + x] as number) * (signs[ch] as number);
              }
        }
      }
      best = rescaled(clean, init, eps);
    }
    let margin = (await task.query(best, 1))[0]?.margin as number;
    task.keep(best);
    const pInit = numberParam(task.params, 'pInit');
    for (let iteration = 0; ; iteration++) {
      let s = Math.max(squareSide(pInit, iteration, clean.length / c), 3);
      if (s % 2 === 0) s++;
      s = Math.min(s, h - 1, w - 1);
      // Every window position, the last row and column included (the authors' randint(0, h - s) never reaches them).
      const [top, left] = [random.int(h - s + 1), random.int(w - s + 1)];
      const [top2, left2] = [random.int(h - s + 1), random.int(w - s + 1)];
      const delta = new Float32Array(clean.length);
      for (let i = 0; i < delta.length; i++) delta[i] = (best[i] as number) - (clean[i] as number);
      const inWindow = (y: number, x: number, t: number, l: number) => y >= t && y < t + s && x >= l && x < l + s;
      const imageNorm = l2(delta);
      const windowNorms = new Float64Array(c);
      const unionNorms = new Float64Array(c);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let ch = 0; ch < c; ch++) {
            const v = (delta[at(y, x, ch)] as number) ** 2;
            if (inWindow(y, x, top, left)) windowNorms[ch] = (windowNorms[ch] as number) + v;
            if (inWindow(y, x, top, left) || inWindow(y, x, top2, left2))
              unionNorms[ch] = (unionNorms[ch] as number) + v;
          }
      const bump = metaPseudoGaussian(s, random);
      const update = new Float64Array(s * s * c);
      for (let ch = 0; ch < c; ch++) {
        const sign = random.next() < 0.5 ? -1 : 1;
        const windowNorm = Math.sqrt(windowNorms[ch] as number);
        let norm = 0;
        for (let y = 0; y < s; y++)
          for (let x = 0; x < s; x++) {
            const v =
              (bump[y * s + x] as number) * sign + (delta[at(top + y, left + x, ch)] as number) / (1e-10 + windowNorm);
            update[(y * s + x) * c + ch] = v;
            norm += v * v;
          }
        // The window takes the unused part of the eps budget plus what the two windows held.
        const target = Math.sqrt(Math.max(eps * eps - imageNorm * imageNorm, 0) / c + (unionNorms[ch] as number));
        for (let y = 0; y < s; y++)
          for (let x = 0; x < s; x++)
            update[(y * s + x) * c + ch] = ((update[(y * s + x) * c + ch] as number) / Math.sqrt(norm)) * target;
      }
      for (let y = 0; y < s; y++)
        for (let x = 0; x < s; x++) for (let ch = 0; ch < c; ch++) delta[at(top2 + y, left2 + x, ch)] = 0;
      for (let y = 0; y < s; y++)
        for (let x = 0; x < s; x++)
          for (let ch = 0; ch < c; ch++) delta[at(top + y, left + x, ch)] = update[(y * s + x) * c + ch] as number;
      const candidate = rescaled(clean, delta, eps);
      const answer = (await task.query(candidate, 1))[0]?.margin as number;
      if (answer < margin) {
        margin = answer;
        best = candidate;
        task.keep(best);
      }
    }
  },
};

/** clean + delta scaled to L2 norm eps, clipped to [0, 1] (clipping only shrinks it). */
function rescaled(clean: Float32Array, delta: Float32Array, eps: number): Float32Array {
  const scale = eps / Math.max(l2(delta), 1e-12);
  const out = new Float32Array(clean.length);
  for (let i = 0; i < out.length; i++) out[i] = (clean[i] as number) + (delta[i] as number) * scale;
  return clipUnit(out);
}

/** Concentric rectangles weighted 1/(k+1)^2, unit L2 norm (the authors' pseudo_gaussian_pert_rectangles). */
function pseudoGaussianRectangles(rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  let r0 = Math.floor(rows / 2);
  let c0 = Math.floor(cols / 2);
  for (let k = 0; k < Math.max(Math.floor(rows / 2) + 1, Math.floor(cols / 2) + 1); k++, r0--, c0--) {
    for (let y = Math.max(r0, 0); y < Math.min(r0 + 2 * k + 1, rows); y++) {
      for (let x = Math.max(c0, 0); x < Math.min(c0 + 2 * k + 1, cols); x++)
        out[y * cols + x] = (out[y * cols + x] as number) + 1 / (k + 1) ** 2;
    }
  }
  const norm = l2(out);
  return out.map((v) => v / norm);
}

/** Two opposite pseudo-Gaussian halves of an s x s square, unit norm, transposed half the time. */
function metaPseudoGaussian(s: number, random: Random): Float64Array {
  const out = new Float64Array(s * s);
  const half = Math.floor(s / 2);
  if (half > 0) out.set(pseudoGaussianRectangles(half, s), 0);
  out.set(
    pseudoGaussianRectangles(s - half, s).map((v) => -v),
    half * s,
  );
  const norm = l2(out);
  const normalised = out.map((v) => v / norm);
  if (random.next() <= 0.5) return normalised;
  const transposed = new Float64Array(s * s);
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) transposed[x * s + y] = normalised[y * s + x] as number;
  return transposed;
}
