import { POSITIVE } from '../common/params.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * RayS (Chen and Gu 2006.12792; after BlackboxBench's `rays_attack.py`, the authors' code),
 * L-inf: searches the sign vectors s (rays x0 + d s/|s|_2, clipped into [0, 1]) for the nearest
 * boundary. Starting from s = +1, it flips one block of s at a time, the blocks halving at each
 * level (the whole image, halves, quarters, ... single pixels, then again), and keeps a flip
 * when the ray still crosses the boundary before the best distance so far: one query says so,
 * then a binary search to `tolerance` (in d, the authors' 1e-3) finds the new crossing. The ray
 * distance d is an L2 length, so its L-inf distance is d / sqrt(dimension).
 */
export const rays: QueryAttack = {
  name: 'rays',
  kind: 'decision-based',
  description: 'RayS (Chen and Gu 2006.12792): hierarchical sign flips of a ray direction, each checked with one label',
  norms: ['linf'],
  parameters: [
    {
      name: 'tolerance',
      range: POSITIVE,
      description: 'binary-search tolerance on the ray length (the authors: 1e-3)',
      default: () => 1e-3,
    },
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean: x0 } = task;
    const dim = x0.length;
    const tolerance = numberParam(task.params, 'tolerance');
    // A hybrid starts from its transfer example's sign pattern.
    let signs: Float64Array = task.start
      ? Float64Array.from(task.start, (v, i) => (v < (x0[i] as number) ? -1 : 1))
      : new Float64Array(dim).fill(1);
    let best = Number.POSITIVE_INFINITY;
    const ray = (s: Float64Array, d: number) => {
      const scale = d / Math.sqrt(dim);
      return Float32Array.from(x0, (v, i) => Math.min(1, Math.max(0, v + scale * (s[i] as number))));
    };
    const adversarialAt = async (s: Float64Array, d: number) =>
      (await task.query(ray(s, d), 1))[0]?.adversarial === true;
    const search = async (attempt: Float64Array) => {
      // Worth searching only if the ray crosses before the best distance (at the start: anywhere in the box).
      if (!(await adversarialAt(attempt, best))) return;
      let [low, high] = [0, Math.min(best, Math.sqrt(dim))];
      while (high - low > tolerance) {
        const mid = (low + high) / 2;
        if (await adversarialAt(attempt, mid)) high = mid;
        else low = mid;
      }
      if (high < best) {
        best = high;
        signs = attempt;
        task.keep(ray(signs, best));
      }
    };
    if (task.start) await search(signs);
    // Levels of 2^level blocks; once the blocks are single pixels, passes over the pixels repeat (as the authors').
    for (let blocks = 1; ; blocks = Math.min(2 * blocks, dim)) {
      const length = Math.ceil(dim / blocks);
      for (let block = 0; block * length < dim; block++) {
        const attempt = signs.slice();
        for (let i = block * length; i < Math.min(dim, (block + 1) * length); i++) attempt[i] = -(attempt[i] as number);
        await search(attempt);
      }
    }
  },
};
