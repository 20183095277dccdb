import { clipUnit } from './geometry.js';
import type { ImageTask, QueryAttack } from './types.js';

/**
 * SignHunter (Al-Dujaili and O'Reilly 1902.06894, Algorithm 3), L-inf: the perturbation is
 * always a vertex eps * s of the ball. Starting from s = +1 everywhere, it flips the signs of one
 * chunk at a time, the chunks halving at each depth (the whole image, then halves, quarters, ...
 * down to single pixels, then again from the whole image), and keeps a flip that lowers the
 * margin. One query per flip; no parameters beyond eps.
 */
export const signHunter: QueryAttack = {
  name: 'sign-hunter',
  kind: 'score-based',
  description:
    "SignHunter (Al-Dujaili and O'Reilly 1902.06894): flips the sign of ever smaller chunks of an eps-vertex, " +
    'kept if the margin falls',
  norms: ['linf'],
  parameters: [],
  async attack(task: ImageTask): Promise<void> {
    const { clean, eps } = task;
    const size = clean.length;
    const signs = new Float32Array(size).fill(1);
    const vertex = () => {
      const x = new Float32Array(size);
      for (let i = 0; i < size; i++) x[i] = (clean[i] as number) + eps * (signs[i] as number);
      return clipUnit(x);
    };
    let best = vertex();
    let margin = (await task.query(best, 1))[0]?.margin as number;
    task.keep(best);
    for (let depth = 0; ; depth = 2 ** (depth + 1) > size ? 0 : depth + 1) {
      const chunks = 2 ** depth;
      const length = Math.ceil(size / chunks);
      for (let chunk = 0; chunk * length < size; chunk++) {
        const from = chunk * length;
        const to = Math.min(size, from + length);
        for (let i = from; i < to; i++) signs[i] = -(signs[i] as number);
        const candidate = vertex();
        const answer = (await task.query(candidate, 1))[0]?.margin as number;
        if (answer < margin) {
          margin = answer;
          best = candidate;
          task.keep(best);
        } else for (let i = from; i < to; i++) signs[i] = -(signs[i] as number);
      }
    }
  },
};
