import { simbaLoop, simbaStep } from './simba.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/** SimBA over the pixel basis: every coordinate once, in a random order. */
export const simbaPixel: QueryAttack = {
  name: 'simba-pixel',
  kind: 'score-based',
  description:
    'SimBA, pixel basis (Guo et al. 1905.07121): +-step on one random pixel at a time, kept if p(true class) falls',
  norms: ['linf', 'l2'],
  parameters: [simbaStep((eps) => eps)],
  attack: (task: ImageTask) =>
    simbaLoop(
      task,
      task.random.permutation(task.clean.length),
      numberParam(task.params, 'stepSize'),
      (point, index, amount) => {
        const out = point.slice();
        out[index] = (out[index] as number) + amount;
        return out;
      },
    ),
};
