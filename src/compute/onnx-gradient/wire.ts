import { TransferbenchError } from '../../common/errors.js';
import type { Registry } from '../../common/registry.js';
import { tensorValues, type Graph, type Node, type TensorProto } from './ir.js';
import type { GradientBuilder, GradientContext } from './ops/types.js';
import type { Facts } from './probe.js';

export interface BackwardRequest {
  /** Values to differentiate with respect to (float tensors). */
  readonly wrt: readonly string[];
  /** The value the gradient flows from... */
  readonly seed: string;
  /** ...and the value holding d(objective)/d(seed) (a constant 1 for a summed loss). */
  readonly seedGradient: string;
  /**
   * Leave out (rather than refuse) a `wrt` value no builder gives a gradient for (a Clip bound, BatchNorm's
   * statistics).
   */
  readonly skipMissing?: boolean;
  /** A different builder for some nodes (the backward-pass tricks); undefined keeps the registry's. */
  readonly override?: (
    node: Node,
    index: number,
    differentiable: (value: string) => boolean,
  ) => GradientBuilder | undefined;
}

export interface Backward {
  readonly nodes: Node[];
  readonly initializers: TensorProto[];
  /** Name of d(objective)/d(wrt[i]), in the order of `wrt`; undefined for one skipped (skipMissing). */
  readonly gradients: (string | undefined)[];
}

/**
 * The wiring pass (onnxruntime's GradientGraphBuilder): finds the nodes on a path from `wrt` to
 * `seed` through float values, walks them in reverse topological order asking each one's builder
 * for its backward nodes, and sums the gradients that fan in to a value. Builders are asked only
 * for the input gradients that lead back to `wrt`; whatever else they emit and nothing reads is
 * pruned with the rest of the graph afterwards.
 */
export function wireBackward(
  graph: Graph,
  facts: Facts,
  request: BackwardRequest,
  registry: Registry<GradientBuilder>,
): Backward {
  const isFloat = (name: string) => facts.get(name)?.type === 'float32';
  const forward = new Set(request.wrt);
  for (const node of graph.nodes) {
    if (node.inputs.some((i) => forward.has(i)))
      for (const o of node.outputs) if (o !== '' && isFloat(o)) forward.add(o);
  }
  const backward = new Set([request.seed]);
  for (const node of [...graph.nodes].reverse()) {
    if (node.outputs.some((o) => backward.has(o))) for (const i of node.inputs) if (i !== '') backward.add(i);
  }
  const active = graph.nodes
    .map((node, index) => ({ node, index }))
    .filter(({ node }) => node.outputs.some((o) => forward.has(o) && backward.has(o)));
  const differentiable = (value: string) => forward.has(value);
  const missing = active.filter(
    ({ node, index }) => !registry.has(node.opType) && request.override?.(node, index, differentiable) === undefined,
  );
  if (missing.length > 0) {
    // Every operator at once (first node of each type), so one look at a model says all it lacks.
    const firstOfType = new Map<string, string>();
    for (const { node } of missing) if (!firstOfType.has(node.opType)) firstOfType.set(node.opType, node.name);
    const list = [...firstOfType].map(([op, name]) => `${op} (node ${name})`).join(', ');
    throw new TransferbenchError(
      'BAD_MODEL',
      `ONNX gradient: no gradient for operator${firstOfType.size > 1 ? 's' : ''} ${list}; ` +
        `supported: ${registry.names().join(', ')}`,
    );
  }

  const contributions = new Map<string, string[]>([[request.seed, [request.seedGradient]]]);
  const nodes: Node[] = [];
  const initializers: TensorProto[] = [];
  const gradientOf = (value: string): string | undefined => {
    const parts = contributions.get(value);
    if (parts === undefined || parts.length === 0) return undefined;
    if (parts.length === 1) return parts[0];
    const name = `${value}_grad`;
    nodes.push({ opType: 'Sum', name: `${value}_grad/Sum`, inputs: parts, outputs: [name], attributes: {} });
    contributions.set(value, [name]);
    return name;
  };

  for (const { node, index } of [...active].reverse()) {
    const builder = request.override?.(node, index, differentiable) ?? registry.get(node.opType);
    const context: GradientContext = {
      node,
      opset: graph.opset,
      input: (i) => node.inputs[i] ?? '',
      output: (i) => node.outputs[i] ?? '',
      gradOutput: (i) => (node.outputs[i] ? gradientOf(node.outputs[i] as string) : undefined),
      gradInput: (i) => `${node.name}_grad/d_input${i}`,
      needsGradient: (i) => forward.has(node.inputs[i] ?? ''),
      shape: (name) => shapeOf(graph, facts, name),
      constant: (name) => {
        const t = graph.initializers.get(name);
        return t ? tensorValues(t) : undefined;
      },
    };
    const result = builder(context);
    nodes.push(...result.nodes);
    initializers.push(...result.initializers);
    const produced = new Set(result.nodes.flatMap((n) => n.outputs));
    node.inputs.forEach((input, i) => {
      const name = context.gradInput(i);
      if (forward.has(input) && produced.has(name))
        contributions.set(input, [...(contributions.get(input) ?? []), name]);
    });
  }
  const gradients = request.wrt.map((w) => {
    const g = gradientOf(w);
    if (g === undefined && request.skipMissing) return undefined;
    if (g === undefined)
      throw new TransferbenchError(
        'BAD_MODEL',
        `ONNX gradient: ${request.seed} does not depend on ${w}; nothing to differentiate`,
      );
    return g;
  });
  return { nodes, initializers, gradients };
}

function shapeOf(graph: Graph, facts: Facts, name: string): readonly number[] {
  const fact = facts.get(name);
  if (fact) return fact.shape;
  const t = graph.initializers.get(name);
  if (t) return t.dims.map(Number);
  throw new TransferbenchError('BAD_MODEL', `ONNX gradient: no shape known for value ${name}`);
}
