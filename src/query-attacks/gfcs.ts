import { ensembleMargin, odsGradient, unitDirection } from './guide.js';
import { guidedSimba, guidedStep } from './simba-ods.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * GFCS, gradient first, coimage second (Lord, Mueller and Bertinetto 2203.08725, ICLR 2022,
 * Algorithm 1): SimBA's loop whose direction is first the normalised margin-loss gradient of
 * each surrogate in turn (in random order, without replacement); when none of them lowers the
 * margin at the current point, ODS directions of a random surrogate until one does; every
 * improvement starts the surrogates' gradients over. The paper's L2 step is 2.0 on 224 x 224 x
 * 3 images; the default here is SimBA-ODS's 0.2, near the paper's step scaled to 28 x 28.
 */
export const gfcs: QueryAttack = {
  name: 'gfcs',
  kind: 'hybrid',
  description: "GFCS (Lord et al. 2203.08725): SimBA along each surrogate's loss gradient first, ODS directions second",
  norms: ['l2', 'linf'],
  parameters: [guidedStep],
  attack(task: ImageTask): Promise<void> {
    const models = task.guide.models;
    const fresh = () => task.random.shuffle(Array.from({ length: models }, (_, m) => m));
    let untried = fresh();
    return guidedSimba(task, numberParam(task.params, 'stepSize'), {
      async next(x) {
        const model = untried.pop();
        if (model === undefined) return unitDirection(await odsGradient(task, x, task.random.int(models)), task.norm);
        const weights = Array.from({ length: models }, (_, m) => (m === model ? 1 : 0));
        // Ascend the loss, minus the margin.
        const { gradient } = await ensembleMargin(task, x, weights);
        return unitDirection(
          gradient.map((v) => -v),
          task.norm,
        );
      },
      outcome(improved) {
        if (improved) untried = fresh();
      },
    });
  },
};
