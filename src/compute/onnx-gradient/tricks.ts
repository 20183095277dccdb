import { badOption } from '../../common/errors.js';
import type { Graph, Node } from './ir.js';
import { identityGradient } from './ops/elementwise.js';
import { Backward, type GradientBuilder } from './ops/types.js';
import { GRADIENT_BUILDERS } from './registry.js';

/**
 * Backward-pass tricks of the transfer-attack literature, applied by swapping the builder of some
 * nodes (the forward pass is untouched).
 */
export interface BackwardTricks {
  /**
   * Skip Gradient Method (Wu et al., 2002.05990): at every Add that joins a residual branch to its
   * skip connection, the branch's gradient is multiplied by gamma in (0, 1]. The branch is the
   * deeper input (more nodes from the images); the skip is the identity or a projection.
   * TransferAttack hooks torchvision's ReLU modules by name instead, which an ONNX graph does not
   * have; this is the paper's own decomposition, dz_{i+1}/dz_i = 1 + gamma df/dz_i.
   */
  readonly sgm?: { readonly gamma: number };
  /**
   * LinBP (Guo et al., 2012.03528): every Relu after the node named `after`, or the node computing the value named
   * `after` (in topological order), passes its gradient as if it were the identity.
   */
  readonly linbp?: { readonly after: string };
}

export function checkTricks(tricks: BackwardTricks, graph: Graph): void {
  if (tricks.sgm && !(tricks.sgm.gamma > 0 && tricks.sgm.gamma <= 1))
    throw badOption('tricks.sgm.gamma', tricks.sgm.gamma, 'a number in (0, 1]');
  if (tricks.linbp && linbpFrom(tricks.linbp.after, graph) < 0) {
    throw badOption(
      'tricks.linbp.after',
      tricks.linbp.after,
      `the name of a node of the model (e.g. ${graph.nodes
        .filter((n) => n.opType === 'Relu')
        .slice(0, 3)
        .map((n) => n.name)
        .join(', ')})`,
    );
  }
}

/** The override for wireBackward: which nodes get which non-standard builder. */
export function trickBuilders(
  tricks: BackwardTricks,
  graph: Graph,
): (node: Node, index: number, differentiable: (value: string) => boolean) => GradientBuilder | undefined {
  const from = tricks.linbp ? linbpFrom(tricks.linbp.after, graph) : Infinity;
  const depth = tricks.sgm ? nodeDepths(graph) : new Map<string, number>();
  return (node, index, differentiable) => {
    if (node.opType === 'Relu' && index > from) return identityGradient;
    if (tricks.sgm && node.opType === 'Add' && node.inputs.length === 2 && node.inputs.every(differentiable)) {
      return scaledInput(branchOf(node, depth), tricks.sgm.gamma);
    }
    return undefined;
  };
}

/** The index of the node named `after` or computing the value `after`; -1 when there is none. */
function linbpFrom(after: string, graph: Graph): number {
  return graph.nodes.findIndex((n) => n.name === after || n.outputs.includes(after));
}

/** Add's gradient with input `branch`'s share multiplied by gamma. */
function scaledInput(branch: 0 | 1, gamma: number): GradientBuilder {
  const add = GRADIENT_BUILDERS.get('Add');
  return (ctx) => {
    const plain = add(ctx);
    const b = new Backward(ctx);
    const target = ctx.gradInput(branch);
    const renamed = `${target}/unscaled`;
    const nodes = plain.nodes.map((n) => (n.outputs[0] === target ? { ...n, outputs: [renamed] } : n));
    if (!nodes.some((n) => n.outputs[0] === renamed)) return plain;
    b.node('Mul', [renamed, b.floats([], [gamma])], {}, target);
    const scaled = b.done();
    return { nodes: [...nodes, ...scaled.nodes], initializers: [...plain.initializers, ...scaled.initializers] };
  };
}

/**
 * Which input of a residual Add (two inputs that both depend on the images) is the branch: the deeper one; the other
 * is the skip connection (SGM scales the branch's gradient, a ghost network erodes the skip).
 */
export function branchOf(node: Node, depth: ReadonlyMap<string, number>): 0 | 1 {
  const [a, b] = node.inputs as [string, string];
  return (depth.get(a) ?? 0) > (depth.get(b) ?? 0) ? 0 : 1;
}

/** The residual Adds of a graph: Adds of two values that both depend on `images`. */
export function residualAdds(graph: Graph, images: string): Node[] {
  const dependent = new Set([images]);
  for (const node of graph.nodes)
    if (node.inputs.some((i) => dependent.has(i))) for (const o of node.outputs) dependent.add(o);
  return graph.nodes.filter(
    (n) => n.opType === 'Add' && n.inputs.length === 2 && n.inputs.every((i) => dependent.has(i)),
  );
}

/** Longest path, in nodes, from the graph's inputs to each value. */
export function nodeDepths(graph: Graph): Map<string, number> {
  const depth = new Map<string, number>();
  for (const node of graph.nodes) {
    const d = 1 + Math.max(0, ...node.inputs.map((i) => depth.get(i) ?? 0));
    for (const o of node.outputs) depth.set(o, d);
  }
  return depth;
}
