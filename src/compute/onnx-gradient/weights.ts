import { TransferbenchError } from '../../common/errors.js';
import { forwardGraph } from './build.js';
import { appendEmitted, Emitter } from './emit.js';
import { GRADIENT_IO, type OnnxModelDescription } from './heads.js';
import { prune } from './fold.js';
import { DataType, encodeModel, floatTensor, int, valueInfo, type Graph, type Node } from './ir.js';
import type { Facts } from './probe.js';
import { GRADIENT_BUILDERS } from './registry.js';
import { wireBackward, type BackwardRequest } from './wire.js';

/** Name of d(objective)/d(weight) in a generated model. */
export const weightGradientName = (weight: string): string => `grad/${weight}`;

const ONE = 'weights/one';
/** What the gradient builder's preprocessing and loss heads name their constants (build.ts). */
const HEAD_PREFIX = 'transferbench';

/**
 * Differentiates the scalar `objective` with respect to `weights` (initializers of `graph`) and
 * turns those initializers into graph inputs of their own shape, so an optimiser can feed new
 * values every step without rebuilding the session. Returns the graph with the backward nodes
 * appended (nothing pruned: the caller chooses the outputs) and, per weight, the name of its
 * gradient (see weightGradientName).
 */
export function withWeightGradients(
  graph: Graph,
  facts: Facts,
  objective: string,
  requested: readonly string[],
  seedGradient = ONE,
  options: { skipMissing?: boolean; override?: BackwardRequest['override'] } = {},
): { graph: Graph; gradients: string[]; weights: string[] } {
  const weights = requested;
  for (const [i, w] of weights.entries()) {
    const t = graph.initializers.get(w);
    if (t === undefined)
      throw new TransferbenchError(
        'BAD_OPTION',
        `weights[${i}] "${w}" is not an initializer of the model (initializers: ` +
          `${[...graph.initializers.keys()].slice(0, 20).join(', ')}...)`,
      );
    if (t.dataType !== DataType.FLOAT)
      throw new TransferbenchError(
        'BAD_OPTION',
        `weights[${i}] "${w}" has data type ${t.dataType}; only float32 initializers are trainable`,
      );
  }
  const wired = wireBackward(
    graph,
    facts,
    {
      wrt: weights,
      seed: objective,
      seedGradient,
      skipMissing: options.skipMissing ?? false,
      ...(options.override ? { override: options.override } : {}),
    },
    GRADIENT_BUILDERS,
  );
  // With skipMissing, a float initializer no builder differentiates (a Clip bound, a Pad value) stays a constant.
  const kept = weights.filter((_, i) => wired.gradients[i] !== undefined);
  const backward = { ...wired, gradients: wired.gradients.filter((g) => g !== undefined) };
  const initializers = new Map(graph.initializers);
  initializers.set(ONE, floatTensor(ONE, [], [1]));
  for (const t of backward.initializers) initializers.set(t.name, t);
  const inputs = [...graph.inputs];
  for (const w of kept) {
    const t = initializers.get(w);
    initializers.delete(w);
    inputs.push(valueInfo(w, DataType.FLOAT, (t?.dims ?? []).map(Number)));
  }
  const rename: Node[] = kept.map((w, i) => ({
    opType: 'Identity',
    name: `weights/grad_${i}`,
    inputs: [backward.gradients[i] as string],
    outputs: [weightGradientName(w)],
    attributes: {},
  }));
  return {
    graph: { ...graph, nodes: [...graph.nodes, ...backward.nodes, ...rename], initializers, inputs },
    gradients: kept.map(weightGradientName),
    weights: kept,
  };
}

/** Names of the extra input and output of a weight-gradient model. */
export const WEIGHT_GRADIENT_IO = {
  /** float32 scalar []: the batch's mean cross-entropy. */
  meanLoss: 'mean_loss',
} as const;

export interface WeightGradientModel {
  readonly bytes: Uint8Array;
  /** The trainable weights, now inputs, in the order of their gradient outputs. */
  readonly weights: readonly { readonly name: string; readonly dims: readonly number[] }[];
}

/**
 * The gradient builder's training option: for any ONNX classifier (as buildGradientModel reads
 * it), a model with inputs `images`, `labels` and every trainable weight (by default every float
 * initializer of the classifier, or the ones named), and outputs `mean_loss` (the
 * batch's mean cross-entropy, as training minimises) and `grad/<weight>` for each weight.
 */
export async function buildWeightGradientModel(
  onnxBytes: Uint8Array,
  description: OnnxModelDescription,
  options: { weights?: readonly string[] } = {},
): Promise<WeightGradientModel> {
  // The weights are what is differentiated: nothing computed from them may become a constant.
  const { graph, facts, total } = await forwardGraph(onnxBytes, description, 'cross-entropy', { foldValues: false });
  const emit = new Emitter('weights/mean', graph.opset);
  // Mean over a dynamic batch: the summed loss's gradient seeded with 1 / N, N read from the
  // loss's shape at run time (outside the differentiated path).
  const count = emit.node('Cast', [emit.node('Shape', [GRADIENT_IO.loss])], { to: int(DataType.FLOAT) });
  const perImage = emit.node('Reciprocal', [emit.reduceSum(count, [0], false)]);
  emit.node('Mul', [total, perImage], {}, WEIGHT_GRADIENT_IO.meanLoss);
  const head = emit.done();
  const withMean = appendEmitted(graph, head);
  // Running statistics of an inference-mode BatchNormalization are not trained by gradient.
  const statistics = new Set(
    graph.nodes.filter((n) => n.opType === 'BatchNormalization').flatMap((n) => n.inputs.slice(3)),
  );
  const candidates =
    options.weights ??
    [...graph.initializers.values()]
      // A scalar is a constant of the arithmetic (a 2, an epsilon), not a weight.
      .filter(
        (t) =>
          t.dataType === DataType.FLOAT &&
          t.dims.length > 0 &&
          !t.name.startsWith(HEAD_PREFIX) &&
          !statistics.has(t.name),
      )
      .map((t) => t.name);
  const result = withWeightGradients(withMean, facts, total, candidates, perImage, {
    skipMissing: options.weights === undefined,
  });
  const weights = result.weights;
  const dims = weights.map((w) => (graph.initializers.get(w)?.dims ?? []).map(Number));
  const outputs = [
    valueInfo(WEIGHT_GRADIENT_IO.meanLoss, DataType.FLOAT, []),
    ...weights.map((w, i) => valueInfo(weightGradientName(w), DataType.FLOAT, dims[i] as number[])),
  ];
  const pruned = prune(
    result.graph,
    outputs.map((o) => o.name),
  );
  return {
    bytes: encodeModel({ ...pruned, outputs }, 'transferbench weight-gradient model'),
    weights: weights.map((name, i) => ({ name, dims: dims[i] as number[] })),
  };
}
