import { TransferbenchError } from '../../common/errors.js';
import { weightGradientName } from '../onnx-gradient/build.js';
import { DataType, floatTensor, valueInfo, type Graph, type Node } from '../onnx-gradient/ir.js';
import type { Facts } from '../onnx-gradient/probe.js';
import { GRADIENT_BUILDERS } from '../onnx-gradient/registry.js';
import { wireBackward } from '../onnx-gradient/wire.js';
import { maxPoolFirstGradient } from './max-pool-first.js';

export { weightGradientName };

const ONE = 'weights/one';

/**
 * The training engine's use of the gradient builder's wiring pass: differentiates the scalar `objective` with respect to `weights` (initializers of `graph`) and
 * turns those initializers into graph inputs of their own shape, so an optimiser can feed new
 * values every step without rebuilding the session. Returns the graph with the backward nodes
 * appended (nothing pruned: the caller chooses the outputs) and, per weight, the name of its
 * gradient (see weightGradientName). A MaxPool that outputs its Indices gets the first-maximum
 * gradient of max-pool-first.ts.
 */
export function withWeightGradients(graph: Graph, facts: Facts, objective: string, weights: readonly string[], seedGradient = ONE): { graph: Graph; gradients: string[] } {
  for (const [i, w] of weights.entries()) {
    const t = graph.initializers.get(w);
    if (t === undefined) throw new TransferbenchError('BAD_OPTION', `weights[${i}] "${w}" is not an initializer of the model (initializers: ${[...graph.initializers.keys()].slice(0, 20).join(', ')}...)`);
    if (t.dataType !== DataType.FLOAT) throw new TransferbenchError('BAD_OPTION', `weights[${i}] "${w}" has data type ${t.dataType}; only float32 initializers are trainable`);
  }
  const override = (node: Node) => (node.opType === 'MaxPool' && node.outputs.length === 2 ? maxPoolFirstGradient : undefined);
  const backward = wireBackward(graph, facts, { wrt: weights, seed: objective, seedGradient, override }, GRADIENT_BUILDERS);
  const initializers = new Map(graph.initializers);
  initializers.set(ONE, floatTensor(ONE, [], [1]));
  for (const t of backward.initializers) initializers.set(t.name, t);
  const inputs = [...graph.inputs];
  for (const w of weights) {
    const t = initializers.get(w);
    initializers.delete(w);
    inputs.push(valueInfo(w, DataType.FLOAT, (t?.dims ?? []).map(Number)));
  }
  const rename: Node[] = weights.map((w, i) => ({ opType: 'Identity', name: `weights/grad_${i}`, inputs: [backward.gradients[i] as string], outputs: [weightGradientName(w)], attributes: {} }));
  return { graph: { ...graph, nodes: [...graph.nodes, ...backward.nodes, ...rename], initializers, inputs }, gradients: weights.map(weightGradientName) };
}

