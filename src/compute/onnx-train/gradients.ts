import type { Graph, Node } from '../onnx-gradient/ir.js';
import type { Facts } from '../onnx-gradient/probe.js';
import { weightGradientName, withWeightGradients } from '../onnx-gradient/weights.js';
import { maxPoolFirstGradient } from './max-pool-first.js';

export { weightGradientName };

/**
 * The gradient builder's weight gradients (onnx-gradient/weights.ts) as training needs them:
 * every weight must get one, and a MaxPool that outputs its Indices (the training graph asks for
 * them) gets the first-maximum gradient of max-pool-first.ts.
 */
export function trainingGradients(
  graph: Graph,
  facts: Facts,
  objective: string,
  weights: readonly string[],
): { graph: Graph; gradients: string[] } {
  const override = (node: Node) =>
    node.opType === 'MaxPool' && node.outputs.length === 2 ? maxPoolFirstGradient : undefined;
  return withWeightGradients(graph, facts, objective, weights, undefined, { override });
}
