import { l2 } from './geometry.js';
import type { ImageTask } from './types.js';
import type { Norm } from '../attacks/types.js';

/**
 * Directions a surrogate-guided hybrid draws from the harness's surrogates (task.guide), as
 * plain arrays. Each call is one batched surrogate request across the images in flight.
 */

/**
 * Output-diversified sampling (Tashiro et al. 2003.06878, eq. 2): the input gradient of w . z
 * for logit weights w uniform in [-1, 1]^C, on model `model`.
 */
export async function odsGradient(task: ImageTask, x: Float32Array, model: number): Promise<Float32Array> {
  const weights = Float32Array.from({ length: task.classes }, () => 2 * task.random.next() - 1);
  return task.guide.logitGradient(x, weights, model);
}

/**
 * The margin z_y - max_{j != y} z_j of a weighted ensemble (weights per model; one model: its
 * own margin) and its input gradient: each model's margin weighted, as BASES's weighted loss.
 */
export async function ensembleMargin(
  task: ImageTask,
  x: Float32Array,
  modelWeights: readonly number[],
): Promise<{ margin: number; gradient: Float64Array }> {
  const gradient = new Float64Array(x.length);
  let margin = 0;
  // One model at a time: an image then has one request in flight, so the gather's batches stay full.
  for (const [m, alpha] of modelWeights.entries()) {
    if (alpha === 0) continue;
    const logits = await task.guide.logits(x, m);
    const y = task.label;
    let other = y === 0 ? 1 : 0;
    for (let k = 0; k < logits.length; k++) if (k !== y && (logits[k] as number) > (logits[other] as number)) other = k;
    margin += alpha * ((logits[y] as number) - (logits[other] as number));
    const weights = new Float32Array(logits.length);
    weights[y] = 1;
    weights[other] = -1;
    const g = await task.guide.logitGradient(x, weights, m);
    for (let i = 0; i < g.length; i++) gradient[i] = (gradient[i] as number) + alpha * (g[i] as number);
  }
  return { margin, gradient };
}

/** The steepest unit direction of a gradient in the norm: L2 normalised, L-inf its sign. */
export function unitDirection(gradient: ArrayLike<number>, norm: Norm): Float64Array {
  const out = Float64Array.from(gradient as ArrayLike<number>);
  if (norm === 'linf') return out.map(Math.sign);
  const length = Math.max(l2(out), 1e-12);
  return out.map((v) => v / length);
}
