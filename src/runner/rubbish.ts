import { Random } from '../common/random.js';
import { TransferbenchError } from '../common/errors.js';
import type { Oracle } from '../oracle/oracle.js';
import { rate, round6 } from '../records/metrics.js';
import type { RubbishResult } from '../records/rubbish.js';
import { DEFAULT_RUBBISH, type RubbishSpec } from './suite.js';

/**
 * Goodfellow et al. (1412.6572, appendix): "rubbish class" inputs, pure noise that a model
 * nonetheless assigns to a class with high confidence. Shallow linear models are not resistant
 * to them; RBF networks are. The record is `RubbishResult` (src/records/rubbish.ts).
 *
 * The noise images: the same for every target of a suite (seeded by the suite's seed only).
 */
export function rubbishImages(
  spec: RubbishSpec,
  imageShape: readonly [number, number, number],
  seed: number,
): Float32Array {
  const { mean, std } = { ...DEFAULT_RUBBISH, ...spec };
  const random = new Random(seed).fork('rubbish');
  const images = new Float32Array(spec.samples * imageShape[0] * imageShape[1] * imageShape[2]);
  for (let i = 0; i < images.length; i++) images[i] = Math.min(1, Math.max(0, mean + std * random.normal()));
  return images;
}

/** Sends the noise to the target through an evaluation oracle that reveals probabilities. */
export async function measureRubbish(
  oracle: Oracle,
  target: { name: string; classNames: readonly string[] },
  spec: RubbishSpec,
  seed: number,
  suiteHash: string,
): Promise<RubbishResult> {
  const { mean, std, threshold } = { ...DEFAULT_RUBBISH, ...spec };
  const answer = await oracle.query(rubbishImages(spec, oracle.imageShape, seed), 'evaluation');
  const probabilities = answer.probabilities;
  if (probabilities === undefined)
    throw new TransferbenchError('BAD_CONFIG', 'rubbish-class inputs need an oracle that reveals probabilities');
  let confident = 0;
  let sum = 0;
  const counts = new Array<number>(answer.classes).fill(0);
  answer.labels.forEach((label, i) => {
    const p = probabilities[i * answer.classes + label] ?? 0;
    sum += p;
    if (p > threshold) confident++;
    counts[label] = (counts[label] ?? 0) + 1;
  });
  const top = counts.reduce((best, c, i) => (c > (counts[best] ?? 0) ? i : best), 0);
  return {
    target: target.name,
    suiteHash,
    samples: answer.count,
    mean,
    std,
    threshold,
    classified: rate(confident, answer.count),
    meanConfidence: round6(sum / Math.max(1, answer.count)),
    topClass: target.classNames[top] ?? String(top),
    topClassShare: round6((counts[top] ?? 0) / Math.max(1, answer.count)),
  };
}
