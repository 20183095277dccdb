import { badOption } from '../../common/errors.js';
import type { FeatureLayer, SurrogateLoss } from '../surrogate.js';
import { forwardGraph, HEAD, SEED } from './build.js';
import { Emitter } from './emit.js';
import { prune } from './fold.js';
import { GRADIENT_IO, imageShapeOf, type OnnxModelDescription } from './heads.js';
import { DataType, decodeModel, encodeModel, floatTensor, valueInfo, type Graph, type Node } from './ir.js';
import type { Facts, ValueFacts } from './probe.js';
import { GRADIENT_BUILDERS } from './registry.js';
import { checkTricks, trickBuilders, type BackwardTricks } from './tricks.js';
import { wireBackward } from './wire.js';

/**
 * Feature taps for the feature-level attacks (FIA 2107.14185, NAA 2204.10606, ILA 1907.10823):
 * one intermediate value of the classifier (a `layer`, named by the value's name in the ONNX
 * graph) read out together with a gradient, each model keeping a single copy of the forward pass.
 * - The loss tap: logits and per-image loss as buildGradientModel's, plus the layer's value and
 *   d(loss_i)/d(layer_i) (FIA's and NAA's aggregate gradients are averages of it).
 * - The objective tap: per image, objective_i = sum((layer_i - reference_i) * weights_i) over the
 *   layer's elements, and d(objective_i)/d(image_i). With weights the aggregate gradient this is
 *   FIA's loss; with reference the clean image's layer and weights a direction, ILA's projection.
 */
export const FEATURE_IO = {
  /** float32 [N, ...layer]: the layer's value. */
  feature: `${HEAD}/feature`,
  /** float32 [N, ...layer]: d(loss_i)/d(layer_i) (loss tap). */
  featureGradient: `${HEAD}/feature_gradient`,
  /** float32 [N, ...layer]: the weights of the objective (objective tap input). */
  weights: `${HEAD}/feature_weights`,
  /** float32 [N, ...layer]: subtracted from the layer before weighting (objective tap input). */
  reference: `${HEAD}/feature_reference`,
  /** float32 [N]: objective_i (objective tap). */
  objective: `${HEAD}/objective`,
} as const;

export interface FeatureTapOptions {
  readonly layer: string;
  readonly tricks?: BackwardTricks;
}

/**
 * The values a tap can name: float outputs of the classifier's own nodes that depend on the
 * pixels and that its output depends on, in topological order, with one image's shape.
 */
export async function featureLayers(onnxBytes: Uint8Array, description: OnnxModelDescription): Promise<FeatureLayer[]> {
  // Every value kept, so that the Relu before a MaxPool stays a layer of its own.
  const everything = decodeModel(onnxBytes).nodes.flatMap((n) => n.outputs.filter((o) => o !== ''));
  const { graph, facts } = await forwardGraph(onnxBytes, description, 'cross-entropy', { keep: everything });
  return candidates(graph, facts);
}

function candidates(graph: Graph, facts: Facts): FeatureLayer[] {
  const forward = new Set([GRADIENT_IO.images as string]);
  for (const node of graph.nodes)
    if (node.inputs.some((i) => forward.has(i))) for (const o of node.outputs) if (o !== '') forward.add(o);
  const backward = new Set([GRADIENT_IO.logits as string]);
  for (const node of [...graph.nodes].reverse())
    if (node.outputs.some((o) => backward.has(o))) for (const i of node.inputs) backward.add(i);
  const layers: FeatureLayer[] = [];
  for (const node of graph.nodes) {
    if (node.name.startsWith(`${HEAD}/`)) continue;
    for (const name of node.outputs) {
      const fact = facts.get(name);
      if (fact?.type !== 'float32' || !forward.has(name) || !backward.has(name)) continue;
      if (fact.shape[0] !== -1 || fact.shape.slice(1).includes(-1)) continue;
      layers.push({ name, opType: node.opType, shape: fact.shape.slice(1) });
    }
  }
  return layers;
}

/** The forward graph with `layer` kept, and that layer as the graph names it, checked. */
export async function tappedForward(
  onnxBytes: Uint8Array,
  description: OnnxModelDescription,
  loss: SurrogateLoss,
  options: FeatureTapOptions,
) {
  const forward = await forwardGraph(onnxBytes, description, loss, { keep: [options.layer], poolIndices: true });
  const layers = candidates(forward.graph, forward.facts);
  // The classifier's values named like the generated model's inputs and outputs were renamed model/<name>.
  const layer = layers.find((l) => l.name === options.layer) ?? layers.find((l) => l.name === `model/${options.layer}`);
  if (!layer) {
    // Listed as featureLayers lists them: the rewritten graph has values of its own (a MaxPool's input before its
    // Relu).
    const examples = (await featureLayers(onnxBytes, description)).map((l) => l.name);
    throw badOption(
      'layer',
      options.layer,
      `a float value of the model between its input and its output (${examples.length} candidates, ` +
        `listed by targets inspect: ${examples.slice(0, 8).join(', ')}${examples.length > 8 ? ', ...' : ''})`,
    );
  }
  const tricks = options.tricks ?? {};
  checkTricks(tricks, forward.graph);
  return { ...forward, layer, override: trickBuilders(tricks, forward.graph) };
}

const layerValue = (layer: FeatureLayer) => valueInfo(FEATURE_IO.feature, DataType.FLOAT, ['batch', ...layer.shape]);

/** The loss tap (see FEATURE_IO): images and labels (and kappa for C&W) in. */
export async function buildFeatureGradientModel(
  onnxBytes: Uint8Array,
  description: OnnxModelDescription,
  options: FeatureTapOptions & { readonly loss: SurrogateLoss },
): Promise<Uint8Array> {
  const { graph, facts, total, layer, override } = await tappedForward(onnxBytes, description, options.loss, options);
  const backward = wireBackward(
    graph,
    facts,
    { wrt: [layer.name], seed: total, seedGradient: SEED, override },
    GRADIENT_BUILDERS,
  );
  const initializers = new Map(graph.initializers);
  initializers.set(SEED, floatTensor(SEED, [], [1]));
  for (const t of backward.initializers) initializers.set(t.name, t);
  const result: Graph = {
    ...graph,
    nodes: [
      ...graph.nodes,
      ...backward.nodes,
      identity(layer.name, FEATURE_IO.feature),
      identity(backward.gradients[0] as string, FEATURE_IO.featureGradient),
    ],
    initializers,
    outputs: [
      valueInfo(GRADIENT_IO.logits, DataType.FLOAT, ['batch', description.classes]),
      valueInfo(GRADIENT_IO.loss, DataType.FLOAT, ['batch']),
      layerValue(layer),
      valueInfo(FEATURE_IO.featureGradient, DataType.FLOAT, ['batch', ...layer.shape]),
    ],
  };
  const wanted = result.outputs.map((o) => o.name);
  return encodeModel(prune(result, wanted), `transferbench feature tap ${layer.name}, loss ${options.loss}`);
}

/** The objective tap (see FEATURE_IO): images, weights and reference in; no labels. */
export async function buildFeatureObjectiveModel(
  onnxBytes: Uint8Array,
  description: OnnxModelDescription,
  options: FeatureTapOptions,
): Promise<Uint8Array> {
  const { graph, facts, layer, override } = await tappedForward(onnxBytes, description, 'cross-entropy', options);
  const emit = new Emitter(`${HEAD}/objective`, graph.opset);
  const difference = emit.node('Sub', [layer.name, FEATURE_IO.reference]);
  const weighted = emit.node('Mul', [difference, FEATURE_IO.weights]);
  const axes = layer.shape.map((_, i) => i + 1);
  const perImage = emit.reduceSum(weighted, axes, false, FEATURE_IO.objective);
  const total = emit.reduceSum(perImage, [0], false);
  const objective = emit.done();
  const layerFacts: ValueFacts = { type: 'float32', shape: [-1, ...layer.shape] };
  const extended = new Map(facts);
  for (const name of [FEATURE_IO.reference, FEATURE_IO.weights, difference, weighted]) extended.set(name, layerFacts);
  extended.set(perImage, { type: 'float32', shape: [-1] });
  extended.set(total, { type: 'float32', shape: [] });
  const tapped: Graph = {
    ...graph,
    nodes: [...graph.nodes, ...objective.nodes],
    initializers: new Map([...graph.initializers, ...objective.initializers.map((t) => [t.name, t] as const)]),
  };
  const backward = wireBackward(
    tapped,
    extended,
    { wrt: [GRADIENT_IO.images], seed: total, seedGradient: SEED, override },
    GRADIENT_BUILDERS,
  );
  const initializers = new Map(tapped.initializers);
  initializers.set(SEED, floatTensor(SEED, [], [1]));
  for (const t of backward.initializers) initializers.set(t.name, t);
  const [h, w, c] = imageShapeOf(description);
  const result: Graph = {
    ...tapped,
    nodes: [
      ...tapped.nodes,
      ...backward.nodes,
      identity(layer.name, FEATURE_IO.feature),
      identity(backward.gradients[0] as string, GRADIENT_IO.gradient),
    ],
    initializers,
    inputs: [
      valueInfo(GRADIENT_IO.images, DataType.FLOAT, ['batch', h, w, c]),
      valueInfo(FEATURE_IO.weights, DataType.FLOAT, ['batch', ...layer.shape]),
      valueInfo(FEATURE_IO.reference, DataType.FLOAT, ['batch', ...layer.shape]),
    ],
    outputs: [
      layerValue(layer),
      valueInfo(FEATURE_IO.objective, DataType.FLOAT, ['batch']),
      valueInfo(GRADIENT_IO.gradient, DataType.FLOAT, ['batch', h, w, c]),
    ],
  };
  const wanted = result.outputs.map((o) => o.name);
  return encodeModel(prune(result, wanted), `transferbench feature objective ${layer.name}`);
}

export function identity(input: string, output: string): Node {
  return { opType: 'Identity', name: `${output}/Identity`, inputs: [input], outputs: [output], attributes: {} };
}
