import { TransferbenchError } from '../common/errors.js';
import { trainNetwork } from '../compute/engine.js';
import { buildNetwork, NETWORKS } from '../compute/network/architectures.js';
import type { OnnxNetwork } from '../compute/network/network.js';
import type { OracleAnswer } from '../oracle/oracle.js';
import type { SubstituteContext } from './types.js';

/** Whether an architecture names an ONNX file's descriptor rather than a registered architecture. */
export const isArchitectureFile = (architecture: string): boolean => architecture.endsWith('.json');

/**
 * A fresh substitute of the context's architecture: a registered one from its seeded
 * initialisation, or an ONNX file's graph, with its own weights (fine-tuning) or re-initialised.
 */
export async function newSubstitute(context: SubstituteContext, salt = 0): Promise<OnnxNetwork> {
  const seed = context.seed + salt;
  if (isArchitectureFile(context.architecture)) {
    if (context.openNetwork === undefined)
      throw new TransferbenchError('BAD_OPTION', `architecture ${context.architecture}: no reader for ONNX files here`);
    const network = await context.openNetwork(context.architecture, { fresh: context.training.init === 'fresh', seed });
    if (network.imageShape.join('x') !== context.imageShape.join('x'))
      throw new TransferbenchError(
        'BAD_MODEL',
        `architecture ${context.architecture}: the model reads ${network.imageShape.join('x')} images; ` +
          `the data set's are ${context.imageShape.join('x')}`,
      );
    if (network.classes !== context.classes)
      throw new TransferbenchError(
        'BAD_MODEL',
        `architecture ${context.architecture}: the model has ${network.classes} outputs; ` +
          `the target has ${context.classes} classes`,
      );
    return network;
  }
  NETWORKS.get(context.architecture);
  return buildNetwork(context.architecture, { imageShape: context.imageShape, classes: context.classes, seed });
}

/**
 * What an oracle answer teaches: its probabilities (rows renormalised: an RBF target's per-class
 * confidences need not sum to one, a distillation target must); for top-k, the k values with the rest of
 * the mass spread evenly over the other classes; for label-only, the label (hard target).
 */
export function targetsFromAnswer(answer: OracleAnswer): Int32Array | Float32Array {
  if (answer.probabilities) {
    const p = Float32Array.from(answer.probabilities);
    for (let r = 0; r < answer.count; r++) {
      let sum = 0;
      for (let k = 0; k < answer.classes; k++) sum += p[r * answer.classes + k] as number;
      if (sum > 0)
        for (let k = 0; k < answer.classes; k++)
          p[r * answer.classes + k] = (p[r * answer.classes + k] as number) / sum;
    }
    return p;
  }
  if (answer.topK) {
    const { k, values, indices } = answer.topK;
    const soft = new Float32Array(answer.count * answer.classes);
    for (let r = 0; r < answer.count; r++) {
      let mass = 0;
      for (let j = 0; j < k; j++) mass += values[r * k + j] as number;
      const rest = answer.classes > k ? Math.max(0, 1 - mass) / (answer.classes - k) : 0;
      soft.fill(rest, r * answer.classes, (r + 1) * answer.classes);
      for (let j = 0; j < k; j++)
        soft[r * answer.classes + (indices[r * k + j] as number)] = values[r * k + j] as number;
    }
    return soft;
  }
  return answer.labels;
}

/** Concatenates training targets of the same kind. */
export function concatTargets(parts: (Int32Array | Float32Array)[]): Int32Array | Float32Array {
  const soft = parts[0] instanceof Float32Array;
  const out = soft
    ? new Float32Array(parts.reduce((n, p) => n + p.length, 0))
    : new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Trains on the current training engine (--engine); returns the trained network. */
export async function fit(
  network: OnnxNetwork,
  context: SubstituteContext,
  images: Float32Array,
  targets: Int32Array | Float32Array,
  seed: number,
): Promise<OnnxNetwork> {
  const { epochs, batchSize, learningRate } = context.training;
  const trained = await trainNetwork(
    network,
    { images, imageShape: context.imageShape, targets, classes: context.classes },
    { epochs, batchSize, learningRate, seed },
  );
  return trained.network;
}

/** The first n attacker images (they are shuffled by the split). */
export function attackerSlice(context: SubstituteContext, start: number, count: number): Float32Array {
  const size = context.imageShape[0] * context.imageShape[1] * context.imageShape[2];
  return context.attackerImages.subarray(start * size, (start + count) * size);
}

export function attackerCount(context: SubstituteContext): number {
  return context.attackerLabels.length;
}
