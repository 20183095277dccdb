import { POSITIVE } from '../common/params.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * SignFlip (Chen, Li, Zhang and Yu, "Boosting decision-based black-box adversarial attacks
 * with random sign flip", ECCV 2020; after BlackboxBench's `sign_flip_attack.py`, the authors'
 * code), L-inf: from an adversarial uniform-noise image, brought to the boundary by 10 L-inf
 * binary-search steps, each iteration asks two labels: a random +-alpha step projected into a
 * ball alpha smaller (kept if still adversarial), then a random flip of the perturbation's
 * signs, each pixel with probability 1 - p (kept if adversarial; p adapted per pixel). Every
 * 10 iterations alpha grows x1.5 when more than 70% of the projection steps were kept, shrinks
 * when fewer than 30% were, and p likewise by 0.001, within [0.99, 0.9999]. Defaults are the
 * authors': alpha 0.004, p 0.999, resize factor 1 (BlackboxBench on CIFAR-10).
 */
export const signFlip: QueryAttack = {
  name: 'sign-flip',
  kind: 'decision-based',
  description:
    'SignFlip (Chen et al., ECCV 2020): projected random steps and random sign flips of an L-inf perturbation',
  norms: ['linf'],
  parameters: [
    { name: 'alpha', range: POSITIVE, description: 'initial random step (the authors: 0.004)', default: () => 0.004 },
    {
      name: 'initTries',
      range: POSITIVE,
      description: 'uniform-noise images tried for a first adversarial point (the authors: 10,000)',
      default: () => 10000,
    },
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean: x0, random } = task;
    const d = x0.length;
    const adversarial = async (delta: Float64Array) => (await task.query(point(x0, delta), 1))[0]?.adversarial === true;
    let start: Float32Array | undefined =
      task.start && (await task.query(task.start, 1))[0]?.adversarial ? task.start : undefined;
    for (let t = 0; start === undefined && t < numberParam(task.params, 'initTries'); t++) {
      const candidate = Float32Array.from(x0, () => random.next());
      if ((await task.query(candidate, 1))[0]?.adversarial) start = candidate;
    }
    if (start === undefined) return;
    // Ten L-inf binary-search steps on the radius: the smallest that keeps the clipped start adversarial.
    const raw = Float64Array.from(start, (v, i) => v - (x0[i] as number));
    let [low, high] = [0, linf(raw)];
    for (let t = 0; t < 10; t++) {
      const mid = (low + high) / 2;
      if (await adversarial(clamp(raw, mid))) high = mid;
      else low = mid;
    }
    let delta = clamp(raw, high);
    task.keep(point(x0, delta));
    let alpha = numberParam(task.params, 'alpha');
    const keep = new Float64Array(d).fill(0.999);
    let [kept, flipped] = [0, 0];
    for (let it = 1; ; it++) {
      const radius = linf(delta) - alpha;
      const projected = clamp(
        delta.map((v) => v + (random.next() < 0.5 ? -alpha : alpha)),
        Math.max(radius, 0),
      );
      if (await adversarial(projected)) {
        delta = projected;
        kept++;
        task.keep(point(x0, delta));
      }
      const signs = keep.map((p) => (random.next() < p ? 1 : -1));
      const candidate = delta.map((v, i) => v * (signs[i] as number));
      if (await adversarial(candidate)) {
        for (let i = 0; i < d; i++)
          keep[i] = Math.min(0.9999, Math.max(0.99, (keep[i] as number) - (signs[i] as number) * 1e-4));
        delta = candidate;
        flipped++;
        task.keep(point(x0, delta));
      }
      if (it % 10 === 0) {
        if (kept / 10 > 0.7) alpha *= 1.5;
        if (kept / 10 < 0.3) alpha /= 1.5;
        const change = flipped / 10 > 0.7 ? -0.001 : flipped / 10 < 0.3 ? 0.001 : 0;
        for (let i = 0; i < d; i++) keep[i] = Math.min(0.9999, Math.max(0.99, (keep[i] as number) + change));
        [kept, flipped] = [0, 0];
      }
    }
  },
};

const linf = (v: Float64Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const clamp = (v: Float64Array, radius: number) => v.map((x) => Math.min(radius, Math.max(-radius, x)));
const point = (x0: Float32Array, delta: Float64Array) =>
  Float32Array.from(x0, (v, i) => Math.min(1, Math.max(0, v + (delta[i] as number))));
