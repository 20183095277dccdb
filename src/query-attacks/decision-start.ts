import { POSITIVE } from '../common/params.js';
import { numberParam, type ImageTask, type QueryParam } from './types.js';

export const initialTries: QueryParam = {
  name: 'initTries',
  range: POSITIVE,
  description: 'uniform-noise images tried, one query each, to find a first misclassified point',
  default: () => 100,
};

/**
 * A first adversarial point for a decision-based attack: the hybrid's transfer example if the
 * target calls it wrong, else Foolbox's blended uniform noise (a misclassified noise image,
 * then a binary search of the blend towards the clean image to a tolerance of 0.001).
 * Undefined when no noise image within `initTries` is misclassified.
 */
export async function firstAdversarial(task: ImageTask): Promise<Float32Array | undefined> {
  const { clean, random } = task;
  let noise: Float32Array | undefined;
  if (task.start && (await task.query(task.start, 1))[0]?.adversarial) noise = task.start;
  for (let t = 0; noise === undefined && t < numberParam(task.params, 'initTries'); t++) {
    const candidate = Float32Array.from(clean, () => random.next());
    if ((await task.query(candidate, 1))[0]?.adversarial) noise = candidate;
  }
  if (noise === undefined) return undefined;
  const blend = (alpha: number) => Float32Array.from(clean, (v, i) => (1 - alpha) * v + alpha * (noise[i] as number));
  let [low, high] = [0, 1];
  while (high - low > 0.001) {
    const mid = (high + low) / 2;
    if ((await task.query(blend(mid), 1))[0]?.adversarial) high = mid;
    else low = mid;
  }
  return blend(high);
}
