import { Random } from '../common/random.js';
import { subset, takeEvaluation, type Dataset } from '../data/index.js';
import type { Suite } from './suite-types.js';

/**
 * The evaluation images of the replicate with seed `seed`: the suite's own seed takes the first
 * `evaluationSize` images of the test split (as a run without replicates does); any other seed
 * draws its own, without replacement, from the whole test split. The split itself stays the
 * suite's, so the attacker's images, and the images the zoo targets were trained on, never enter
 * an evaluation set.
 */
export function replicateEvaluation(
  test: Dataset,
  suite: Pick<Suite, 'name' | 'seed' | 'evaluationSize'>,
  seed: number,
) {
  // The suite's own images; for another seed, this also refuses an evaluationSize the split does not have.
  const own = takeEvaluation(test, suite.evaluationSize, `suite ${suite.name}: evaluationSize`);
  if (seed === suite.seed) return own;
  const order = new Random(seed).fork('evaluation').shuffle(Array.from(test.labels, (_, i) => i));
  // Only the images drawn are copied (a CIFAR-10 test split is 120 MB).
  return subset(test, order.slice(0, suite.evaluationSize));
}
