import {
  craftAdversarial,
  perturbationNorms,
  type LabelledImages,
  type LabelSource,
  type Prepared,
} from '../attacks/index.js';
import type { Surrogate } from '../compute/surrogate.js';
import { argmaxRows } from '../compute/train.js';
import type { Oracle } from '../oracle/oracle.js';

export interface AttackOutcome {
  /** Adversarial images, NHWC. */
  readonly adversarial: Float32Array;
  readonly substitutePredictions: Int32Array;
  readonly linf: Float32Array;
  readonly l2: Float32Array;
  /** Wall time of crafting alone (not the prepare step, not the evaluation). */
  readonly craftingSeconds: number;
}

const CHUNK = 256;

/** The surrogate's predicted class for each image, 256 at a time. */
export async function surrogatePredictions(
  surrogate: Surrogate,
  images: Float32Array,
  count: number,
): Promise<Int32Array> {
  const size = images.length / Math.max(1, count);
  const predictions = new Int32Array(count);
  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start);
    predictions.set(
      argmaxRows(await surrogate.logits(images.subarray(start * size, (start + n) * size), n), surrogate.classes),
      start,
    );
  }
  return predictions;
}

/** Crafts adversarial versions of the evaluation images on the surrogate, in chunks of 256. */
export async function craftOnSurrogate(
  surrogate: Surrogate,
  attack: { readonly name: string; readonly transforms?: readonly string[] },
  images: Float32Array,
  labels: Int32Array,
  options: {
    eps: number;
    labelSource: LabelSource;
    params: Readonly<Record<string, unknown>>;
    seed: number;
    /** Attacker images, labels resolved by label source (Admix mixes them in). */
    pool?: LabelledImages;
    /** What the attack's prepare step made (a fitted generator). */
    prepared?: Prepared;
    /** A targeted cell's target class per image (the attack moves towards them). */
    targetLabels?: Int32Array;
  },
): Promise<AttackOutcome> {
  const count = labels.length;
  const size = images.length / Math.max(1, count);
  const adversarial = new Float32Array(images.length);
  const started = performance.now();
  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start);
    const result = await craftAdversarial(attack.name, surrogate, {
      images: images.subarray(start * size, (start + n) * size),
      trueLabels: labels.subarray(start, start + n),
      ids: Array.from({ length: n }, (_, i) => start + i),
      eps: options.eps,
      labelSource: options.labelSource,
      params: { ...options.params, seed: options.seed, ...(options.targetLabels ? { targeted: true } : {}) },
      ...(options.targetLabels ? { targetLabels: options.targetLabels.subarray(start, start + n) } : {}),
      ...(attack.transforms && attack.transforms.length > 0 ? { transforms: attack.transforms } : {}),
      ...(options.pool ? { pool: options.pool } : {}),
      ...(options.prepared ? { prepared: options.prepared } : {}),
    });
    adversarial.set(result, start * size);
  }
  const craftingSeconds = (performance.now() - started) / 1000;
  const norms = perturbationNorms(adversarial, images, count);
  return {
    adversarial,
    substitutePredictions: await surrogatePredictions(surrogate, adversarial, count),
    craftingSeconds,
    ...norms,
  };
}

/**
 * The target's labels for images, through the oracle (evaluation queries), and the mean
 * probability it gives its top class (its confidence), when the oracle reveals probabilities.
 */
export async function targetLabels(
  oracle: Oracle,
  images: Float32Array,
): Promise<{ labels: Int32Array; meanConfidence?: number }> {
  const answer = await oracle.query(images, 'evaluation');
  if (answer.probabilities === undefined) return { labels: answer.labels };
  let sum = 0;
  answer.labels.forEach((label, i) => (sum += answer.probabilities?.[i * answer.classes + label] ?? 0));
  return { labels: answer.labels, meanConfidence: answer.count === 0 ? 0 : sum / answer.count };
}
