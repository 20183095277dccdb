import type { SurrogateLoss } from '../surrogate.js';
import { HEAD, SEED } from './build.js';
import { Emitter } from './emit.js';
import { prune } from './fold.js';
import { GRADIENT_IO, imageShapeOf, type OnnxModelDescription } from './heads.js';
import { DataType, encodeModel, floatTensor, valueInfo, type Graph, type Node } from './ir.js';
import type { ValueFacts } from './probe.js';
import { GRADIENT_BUILDERS } from './registry.js';
import { FEATURE_IO, identity, tappedForward, type FeatureTapOptions } from './taps.js';
import { wireBackward } from './wire.js';

/**
 * The decayed forward pass of ILPD (Li, Guo and Chen, 2304.13410), as TransferAttack's
 * advanced_objective/ilpd.py hooks it: the layer's value h is replaced, for everything after it, by
 * gamma * h + (1 - gamma) * reference, where the reference is a fixed feature fed per batch (ILPD: the layer's
 * value at the clean image plus Gaussian noise). The loss at the output and its input gradient are taken through
 * that forward pass; the reference is a constant, so gamma 1 is the plain loss gradient and gamma 0 cuts the
 * images off from the loss. gamma is an input, so one session serves every gamma.
 */
export const DECAY_IO = {
  /** float32 [N, ...layer]: the reference feature the layer decays towards. */
  reference: `${HEAD}/decay_reference`,
  /** float32 scalar []: gamma, the share of the layer's own value kept. */
  gamma: `${HEAD}/decay_gamma`,
} as const;

/**
 * The decayed loss model: images, labels (kappa for C&W), reference and gamma in; logits and per-image loss of the
 * decayed pass, d(loss_i)/d(image_i) through it, and the layer's own (undecayed) value as FEATURE_IO.feature out.
 */
export async function buildDecayedGradientModel(
  onnxBytes: Uint8Array,
  description: OnnxModelDescription,
  options: FeatureTapOptions & { readonly loss: SurrogateLoss },
): Promise<Uint8Array> {
  const { graph, facts, total, layer, override } = await tappedForward(onnxBytes, description, options.loss, options);
  const emit = new Emitter(`${HEAD}/decay`, graph.opset);
  const kept = emit.node('Mul', [layer.name, DECAY_IO.gamma]);
  const rest = emit.node('Sub', [emit.floats([], [1]), DECAY_IO.gamma]);
  const pulled = emit.node('Mul', [DECAY_IO.reference, rest]);
  const decayed = emit.node('Add', [kept, pulled]);
  const decay = emit.done();
  const layerFacts: ValueFacts = { type: 'float32', shape: [-1, ...layer.shape] };
  const extended = new Map(facts);
  for (const name of [DECAY_IO.reference, kept, pulled, decayed]) extended.set(name, layerFacts);
  for (const name of [DECAY_IO.gamma, rest]) extended.set(name, { type: 'float32', shape: [] });
  // Every reader of the layer reads the decayed value instead; the decay runs right after the layer's producer.
  const reread = (node: Node): Node =>
    node.inputs.includes(layer.name)
      ? { ...node, inputs: node.inputs.map((i) => (i === layer.name ? decayed : i)) }
      : node;
  const producer = graph.nodes.findIndex((n) => n.outputs.includes(layer.name));
  const nodes = [...graph.nodes.slice(0, producer + 1), ...decay.nodes, ...graph.nodes.slice(producer + 1).map(reread)];
  const decayedGraph: Graph = {
    ...graph,
    nodes,
    initializers: new Map([...graph.initializers, ...decay.initializers.map((t) => [t.name, t] as const)]),
  };
  const backward = wireBackward(
    decayedGraph,
    extended,
    { wrt: [GRADIENT_IO.images], seed: total, seedGradient: SEED, override },
    GRADIENT_BUILDERS,
  );
  const initializers = new Map(decayedGraph.initializers);
  initializers.set(SEED, floatTensor(SEED, [], [1]));
  for (const t of backward.initializers) initializers.set(t.name, t);
  const [h, w, c] = imageShapeOf(description);
  const result: Graph = {
    ...decayedGraph,
    nodes: [
      ...decayedGraph.nodes,
      ...backward.nodes,
      identity(layer.name, FEATURE_IO.feature),
      identity(backward.gradients[0] as string, GRADIENT_IO.gradient),
    ],
    initializers,
    inputs: [
      ...decayedGraph.inputs,
      valueInfo(DECAY_IO.reference, DataType.FLOAT, ['batch', ...layer.shape]),
      valueInfo(DECAY_IO.gamma, DataType.FLOAT, []),
    ],
    outputs: [
      valueInfo(GRADIENT_IO.logits, DataType.FLOAT, ['batch', description.classes]),
      valueInfo(GRADIENT_IO.loss, DataType.FLOAT, ['batch']),
      valueInfo(GRADIENT_IO.gradient, DataType.FLOAT, ['batch', h, w, c]),
      valueInfo(FEATURE_IO.feature, DataType.FLOAT, ['batch', ...layer.shape]),
    ],
  };
  const wanted = result.outputs.map((o) => o.name);
  return encodeModel(prune(result, wanted), `transferbench decayed layer ${layer.name}, loss ${options.loss}`);
}
