import { POSITIVE } from '../common/params.js';
import type { Random } from '../common/random.js';
import { simbaLoop, simbaStep } from './simba.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * SimBA over the orthonormal 2-D DCT basis, low frequencies first (the authors' block_order):
 * the lowest `lowFrequencies` x `lowFrequencies` block in random order, then rings `stride` wide,
 * each in random order.
 */
export const simbaDct: QueryAttack = {
  name: 'simba-dct',
  kind: 'score-based',
  description:
    'SimBA-DCT (Guo et al. 1905.07121): +-step along low-frequency DCT directions first, kept if p(true class) falls',
  norms: ['linf', 'l2'],
  parameters: [
    // An orthonormal DCT vector peaks at 2 / sqrt(h w): this step makes its peak eps.
    simbaStep((eps, [h, w]) => (eps * Math.sqrt(h * w)) / 2),
    {
      name: 'lowFrequencies',
      range: POSITIVE,
      description: 'side of the low-frequency block searched first (default a quarter of the image side)',
      default: ({ shape: [h] }) => Math.max(1, Math.ceil(h / 4)),
    },
    {
      name: 'stride',
      range: POSITIVE,
      description: 'width of each further ring of frequencies (default an eighth of the image side)',
      default: ({ shape: [h] }) => Math.max(1, Math.ceil(h / 8)),
    },
  ],
  attack(task: ImageTask): Promise<void> {
    const [h, w, c] = task.shape;
    const cosines = (n: number) =>
      Float64Array.from({ length: n * n }, (_, k) => {
        const [u, y] = [Math.floor(k / n), k % n];
        return (u === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n)) * Math.cos((Math.PI * (2 * y + 1) * u) / (2 * n));
      });
    const rows = cosines(h);
    const cols = cosines(w);
    const order = frequencyOrder(
      h,
      w,
      c,
      numberParam(task.params, 'lowFrequencies'),
      numberParam(task.params, 'stride'),
      task.random,
    );
    return simbaLoop(task, order, numberParam(task.params, 'stepSize'), (point, index, amount) => {
      const [u, v, ch] = [Math.floor(index / (w * c)), Math.floor(index / c) % w, index % c];
      const out = point.slice();
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const i = (y * w + x) * c + ch;
          out[i] = (out[i] as number) + amount * (rows[u * h + y] as number) * (cols[v * w + x] as number);
        }
      return out;
    });
  },
};

/** Frequency indices ((u * w + v) * c + channel), low block first, then rings, each shuffled. */
export function frequencyOrder(
  h: number,
  w: number,
  c: number,
  low: number,
  stride: number,
  random: Random,
): Int32Array {
  const order: number[] = [];
  const take = (inBand: (u: number, v: number) => boolean) => {
    const band: number[] = [];
    for (let u = 0; u < h; u++)
      for (let v = 0; v < w; v++) if (inBand(u, v)) for (let ch = 0; ch < c; ch++) band.push((u * w + v) * c + ch);
    order.push(...random.shuffle(band));
  };
  take((u, v) => u < low && v < low);
  for (let i = low; i < Math.max(h, w); i += stride) take((u, v) => Math.max(u, v) >= i && Math.max(u, v) < i + stride);
  return Int32Array.from(order);
}
