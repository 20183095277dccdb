import { type ImageNetwork, scopedGraph } from '../../compute/network/image-network.js';
import { appendEmitted, Emitter } from '../../compute/onnx-gradient/emit.js';
import { prune } from '../../compute/onnx-gradient/fold.js';
import { DataType, encodeModel, valueInfo, type Graph } from '../../compute/onnx-gradient/ir.js';
import { probeGraph } from '../../compute/onnx-gradient/probe.js';
import { trainingGradients, weightGradientName } from '../../compute/onnx-train/gradients.js';
import { trainingForm, type TrainingForm } from '../../compute/onnx-train/training-form.js';
import type { AdvGanOptions } from './options.js';

/** Names of the AdvGAN models' own inputs and outputs (weights are `g/w<i>` and `d/w<i>`). */
export const GAN_IO = {
  /** float32 [N, H, W, C]: clean images (generator) or real and generated ones (discriminator). */
  images: 'images',
  /** float32 [N, H, W, C]: d(L_adv)/d(adversarial images), the surrogate's vjp seed, already / N. */
  upstream: 'upstream',
  /** float32 [N, 1]: the discriminator's least-squares targets, 1 real and 0 generated. */
  targets: 'targets',
  /** float32 [N]: each image's weight in the discriminator's loss (1 / batch). */
  sampleWeights: 'sample_weights',
  adversarial: 'adversarial',
  loss: 'loss',
} as const;

/** A weight the steps train: its name in the three models (`g/w<i>`, `d/w<i>`), its shape and starting values. */
export interface GanWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly initial: Float32Array;
}

export interface GanModels {
  /** images and G's weights -> clip(images + eps G(images)). */
  readonly generate: Uint8Array;
  /** images, upstream, G's and D's weights -> L and d(L)/d(G's weights). */
  readonly generatorStep: Uint8Array;
  /** images, targets, sample weights and D's weights -> D's loss and d/d(D's weights). */
  readonly discriminatorStep: Uint8Array;
  readonly generatorWeights: readonly GanWeight[];
  readonly discriminatorWeights: readonly GanWeight[];
}

/** Keeps the values `outputs` need, and of the graph's inputs only those they read. */
function finish(graph: Graph, outputs: ReturnType<typeof valueInfo>[], doc: string): Uint8Array {
  const pruned = prune(
    { ...graph, outputs },
    outputs.map((o) => o.name),
  );
  const read = new Set(pruned.nodes.flatMap((n) => n.inputs));
  return encodeModel({ ...pruned, inputs: pruned.inputs.filter((i) => read.has(i.name)) }, doc);
}

/** Turns the named initializers into graph inputs: weights fed each run but not differentiated. */
function asInputs(graph: Graph, weights: readonly GanWeight[]): Graph {
  const initializers = new Map(graph.initializers);
  for (const w of weights) initializers.delete(w.name);
  return {
    ...graph,
    initializers,
    inputs: [...graph.inputs, ...weights.map((w) => valueInfo(w.name, DataType.FLOAT, w.shape))],
  };
}

/** A network's training form with its names under `prefix` and its input named `input`. */
async function scoped(
  network: ImageNetwork,
  prefix: string,
  input: string,
): Promise<{ form: TrainingForm; weights: GanWeight[] }> {
  const graph = scopedGraph(network, prefix, input);
  const trainable = network.trainable.map((name) => `${prefix}${name}`);
  const form = await trainingForm(
    { graph, imageShape: network.imageShape, trainable },
    input,
    `${prefix}output`,
    prefix,
  );
  const weights = form.weights.map((w) => ({ ...w, initial: form.initial.get(w.name) as Float32Array }));
  return { form, weights };
}

/**
 * AdvGAN's three onnxruntime models, from the generator and discriminator networks (their
 * current weights only set the probe's values): the generator's forward pass, its training step and the
 * discriminator's. The generator step computes, in one graph, the perturbation eps G(x), the
 * adversarial images clip(x + eps G(x), 0, 1), the discriminator on them (its weights as plain
 * inputs), and L = sum(adversarial * upstream) + alpha LSGAN + beta hinge, whose first term
 * chains the surrogate's gradient (the `upstream` input) into G's weight gradients, as the tfjs
 * reference losses do (steps.ts).
 */
export async function buildGanModels(
  generator: ImageNetwork,
  discriminator: ImageNetwork,
  imageShape: readonly [number, number, number],
  options: AdvGanOptions,
): Promise<GanModels> {
  const g = await scoped(generator, 'g/', GAN_IO.images);
  const d = await scoped(discriminator, 'd/', GAN_IO.adversarial);
  const emit = new Emitter('advgan', g.form.graph.opset);
  const scalar = (v: number) => emit.floats([], [v]);
  const perturbation = emit.node('Mul', ['g/output', scalar(options.eps)]);
  emit.node('Clip', [emit.node('Add', [GAN_IO.images, perturbation]), scalar(0), scalar(1)], {}, GAN_IO.adversarial);
  const forward = emit.done();
  const lossEmit = new Emitter('advgan/loss', g.form.graph.opset);
  const s = (v: number) => lossEmit.floats([], [v]);
  const offBy = lossEmit.node('Sub', ['d/output', s(1)]);
  const gan = lossEmit.reduce('ReduceMean', lossEmit.node('Mul', [offBy, offBy]), [0, 1], false);
  const norms = lossEmit.node('Sqrt', [
    lossEmit.reduceSum(lossEmit.node('Mul', [perturbation, perturbation]), [1, 2, 3], false),
  ]);
  const hinge = lossEmit.reduce(
    'ReduceMean',
    lossEmit.node('Relu', [lossEmit.node('Sub', [norms, s(options.hingeBound)])]),
    [0],
    false,
  );
  const adv = lossEmit.reduceSum(lossEmit.node('Mul', [GAN_IO.adversarial, GAN_IO.upstream]), [0, 1, 2, 3], false);
  const weighted = lossEmit.node('Add', [
    lossEmit.node('Mul', [gan, s(options.alpha)]),
    lossEmit.node('Mul', [hinge, s(options.beta)]),
  ]);
  lossEmit.node('Add', [adv, weighted], {}, GAN_IO.loss);
  const head = lossEmit.done();
  const images = valueInfo(GAN_IO.images, DataType.FLOAT, ['batch', ...imageShape]);
  const upstream = valueInfo(GAN_IO.upstream, DataType.FLOAT, ['batch', ...imageShape]);
  const discriminatorPart = { nodes: d.form.graph.nodes, initializers: [...d.form.graph.initializers.values()] };
  const joined: Graph = {
    ...appendEmitted(g.form.graph, forward, discriminatorPart, head),
    inputs: [images, upstream],
  };
  const facts = await probeGraph(joined, [
    { name: GAN_IO.images, type: 'float32', dims: imageShape },
    { name: GAN_IO.upstream, type: 'float32', dims: imageShape },
  ]);
  const withGradients = asInputs(
    trainingGradients(
      joined,
      facts,
      GAN_IO.loss,
      g.weights.map((w) => w.name),
    ).graph,
    d.weights,
  );
  const gradientOutputs = g.weights.map((w) => valueInfo(weightGradientName(w.name), DataType.FLOAT, w.shape));
  return {
    generate: finish(
      withGradients,
      [valueInfo(GAN_IO.adversarial, DataType.FLOAT, ['batch', ...imageShape])],
      'transferbench AdvGAN generator',
    ),
    generatorStep: finish(
      withGradients,
      [valueInfo(GAN_IO.loss, DataType.FLOAT, []), ...gradientOutputs],
      'transferbench AdvGAN generator step',
    ),
    discriminatorStep: await discriminatorStep(discriminator, imageShape),
    generatorWeights: g.weights,
    discriminatorWeights: d.weights,
  };
}

/** The least-squares discriminator loss sum_i w_i (D(x_i) - t_i)^2 and its weight gradients. */
async function discriminatorStep(
  discriminator: ImageNetwork,
  imageShape: readonly [number, number, number],
): Promise<Uint8Array> {
  const { form, weights } = await scoped(discriminator, 'd/', GAN_IO.images);
  const emit = new Emitter('advgan/discriminator', form.graph.opset);
  const offBy = emit.node('Sub', ['d/output', GAN_IO.targets]);
  const perImage = emit.reduceSum(emit.node('Mul', [offBy, offBy]), [1], false);
  emit.reduceSum(emit.node('Mul', [perImage, GAN_IO.sampleWeights]), [0], false, GAN_IO.loss);
  const inputs = [
    valueInfo(GAN_IO.images, DataType.FLOAT, ['batch', ...imageShape]),
    valueInfo(GAN_IO.targets, DataType.FLOAT, ['batch', 1]),
    valueInfo(GAN_IO.sampleWeights, DataType.FLOAT, ['batch']),
  ];
  const graph = { ...appendEmitted(form.graph, emit.done()), inputs };
  const facts = await probeGraph(graph, [
    { name: GAN_IO.images, type: 'float32', dims: imageShape },
    { name: GAN_IO.targets, type: 'float32', dims: [1] },
    { name: GAN_IO.sampleWeights, type: 'float32', dims: [] },
  ]);
  const withGradients = trainingGradients(
    graph,
    facts,
    GAN_IO.loss,
    weights.map((w) => w.name),
  ).graph;
  const outputs = [
    valueInfo(GAN_IO.loss, DataType.FLOAT, []),
    ...weights.map((w) => valueInfo(weightGradientName(w.name), DataType.FLOAT, w.shape)),
  ];
  return finish(withGradients, outputs, 'transferbench AdvGAN discriminator step');
}
