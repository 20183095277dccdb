import { clipUnit, projectToBall } from './geometry.js';
import { squareSide, squareSchedule } from './square-schedule.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * Square Attack, L-inf (Andriushchenko et al. 1912.00049; after the authors' square_attack_linf):
 * start from vertical stripes of +-eps, then each iteration redraws the sign of one random
 * square window per channel and keeps the change if the margin loss falls.
 */
export const squareLinf: QueryAttack = {
  name: 'square-linf',
  kind: 'score-based',
  description:
    'Square Attack, L-inf (Andriushchenko et al. 1912.00049): random ' +
    'square updates of +-eps, margin loss, one query per iteration',
  norms: ['linf'],
  parameters: [squareSchedule],
  async attack(task: ImageTask): Promise<void> {
    const { clean, eps, random, shape } = task;
    const [h, w, c] = shape;
    const size = clean.length;
    let best: Float32Array;
    if (task.start) best = projectToBall(task.start, clean, eps, 'linf');
    else {
      // Vertical stripes ([c, 1, w] signs) work best for untargeted attacks, as the authors found.
      const stripes = Array.from({ length: w * c }, () => (random.next() < 0.5 ? -eps : eps));
      best = new Float32Array(size);
      for (let i = 0; i < size; i++) best[i] = (clean[i] as number) + (stripes[i % (w * c)] as number);
      clipUnit(best);
    }
    let margin = (await task.query(best, 1))[0]?.margin as number;
    task.keep(best);
    const pInit = numberParam(task.params, 'pInit');
    // Windows that no sign can change (an eps below float32 resolution, say) cost no query; a long run of them ends the
    // attack.
    for (let iteration = 0, stalled = 0; stalled < 100; iteration++) {
      const s = Math.min(Math.max(squareSide(pInit, iteration, size / c), 1), h - 1);
      // Every window position, the last row and column included (the authors' randint(0, h - s) never reaches them).
      const top = random.int(h - s + 1);
      const left = random.int(w - s + 1);
      const candidate = best.slice();
      // Redraw the window's signs until the window actually changes (it may already hold them).
      let unchanged = true;
      for (let attempt = 0; unchanged && attempt < 32; attempt++) {
        const signs = Array.from({ length: c }, () => (random.next() < 0.5 ? -eps : eps));
        for (let y = top; y < top + s; y++) {
          for (let x = left; x < left + s; x++) {
            for (let ch = 0; ch < c; ch++) {
              const i = (y * w + x) * c + ch;
              candidate[i] = Math.min(1, Math.max(0, (clean[i] as number) + (signs[ch] as number)));
              if (Math.abs((candidate[i] as number) - (best[i] as number)) >= 1e-7) unchanged = false;
            }
          }
        }
      }
      stalled = unchanged ? stalled + 1 : 0;
      if (unchanged) continue;
      const answer = (await task.query(candidate, 1))[0]?.margin as number;
      if (answer < margin) {
        margin = answer;
        best = candidate;
        task.keep(best);
      }
    }
  },
};
