import type { Graph, Node } from './ir.js';

/**
 * Forward rewrites that change no value outside the rewritten pair but make the backward pass
 * cheaper. MaxPool(Relu(x)) becomes Relu(MaxPool(x)): max commutes with a monotone function, and
 * padding is -infinity for MaxPool, so every output is the same. The Relu's mask is then applied
 * to the pooled gradient (a quarter of the elements for 2x2 pools) and the forward Relu runs on
 * pooled values too; a window that is all <= 0 gets no gradient either way.
 *
 * A MaxPool that outputs its Indices keeps its place unless `indicesRouteGradientOnly` (the
 * training graph, whose Indices only route the pool's gradient): after the swap they may name
 * another element of a window whose maximum is <= 0, but the Relu's mask zeroes that window's
 * gradient before it is routed, so every gradient is unchanged.
 */
export function commuteReluMaxPool(graph: Graph, options: { indicesRouteGradientOnly?: boolean } = {}): Graph {
  const consumers = new Map<string, Node[]>();
  for (const node of graph.nodes) for (const i of node.inputs) consumers.set(i, [...(consumers.get(i) ?? []), node]);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const replaced = new Map<Node, Node[]>();
  const dropped = new Set<Node>();
  for (const relu of graph.nodes) {
    if (relu.opType !== 'Relu') continue;
    const value = relu.outputs[0] as string;
    const readers = consumers.get(value) ?? [];
    const pool = readers[0];
    if (readers.length !== 1 || outputs.has(value) || pool?.opType !== 'MaxPool' || pool.inputs[0] !== value) continue;
    // Indices would change meaning
    if (pool.outputs.length > 1 && pool.outputs[1] !== '' && options.indicesRouteGradientOnly !== true) continue;
    const pooled = `${pool.outputs[0] as string}/before_relu`;
    dropped.add(relu);
    replaced.set(pool, [
      { ...pool, inputs: [relu.inputs[0] as string], outputs: [pooled, ...pool.outputs.slice(1)] },
      { ...relu, inputs: [pooled], outputs: [pool.outputs[0] as string] },
    ]);
  }
  if (dropped.size === 0) return graph;
  return { ...graph, nodes: graph.nodes.flatMap((n) => (dropped.has(n) ? [] : (replaced.get(n) ?? [n]))) };
}
