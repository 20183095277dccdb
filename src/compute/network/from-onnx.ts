import { Random } from '../../common/random.js';
import { TransferbenchError } from '../../common/errors.js';
import { Emitter } from '../onnx-gradient/emit.js';
import { imageShapeOf, preprocessing, type OnnxModelDescription } from '../onnx-gradient/heads.js';
import { DataType, decodeModel, floatTensor, type Graph, type Node, type TensorProto } from '../onnx-gradient/ir.js';
import { NETWORK_IO, type OnnxNetwork } from './network.js';

/** Operators whose float initializer inputs (at these positions) are weights a trainer fits. */
const WEIGHT_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  Gemm: [1, 2],
  MatMul: [0, 1],
  Add: [0, 1],
  Mul: [0, 1],
  Sub: [0, 1],
  BatchNormalization: [1, 2],
  InstanceNormalization: [1, 2],
  LayerNormalization: [1, 2],
  GroupNormalization: [1, 2],
  PRelu: [1],
};

/**
 * An ONNX classifier the attacker holds (described in the target.json format) as a network the
 * harness trains and attacks: the descriptor's range, normalisation and layout folded in front
 * (NHWC pixels in [0, 1] in, as every network of ours), the output read as logits (a softmax
 * output through a Log, whose softmax is the same distribution). Its weights are the float
 * initializers that feed a weight input of a layer; with `fresh`, they are drawn anew from the
 * seed (He-uniform for convolutions and matrices, scale 1 and shift 0 for normalisations, zero
 * biases) and BatchNormalization's running statistics reset, so the graph trains from scratch.
 */
export function networkFromOnnx(
  bytes: Uint8Array,
  description: OnnxModelDescription,
  architecture: string,
  options: { readonly fresh: boolean; readonly seed: number },
): OnnxNetwork {
  const d = description;
  const model = decodeModel(bytes);
  const refuse = (why: string) => new TransferbenchError('BAD_MODEL', `${architecture}: ${why}`);
  if (model.inputs.length !== 1 || model.inputs[0]?.name !== d.inputName)
    throw refuse(
      `the model's inputs are ${model.inputs.map((i) => i.name).join(', ')}; one input, ${d.inputName}, is supported`,
    );
  const produced = new Set(model.nodes.flatMap((n) => n.outputs));
  if (!produced.has(d.outputName)) throw refuse(`no node outputs ${d.outputName}`);
  for (const reserved of [NETWORK_IO.images, NETWORK_IO.logits])
    if ((produced.has(reserved) || model.initializers.has(reserved)) && reserved !== d.outputName)
      throw refuse(`the model has a value named ${reserved}, which the harness reserves; rename it`);
  const head = new Emitter('net/in', model.opset);
  preprocessing(head, d);
  const tail = new Emitter('net/out', model.opset);
  if (d.outputKind === 'probabilities') tail.node('Log', [d.outputName], {}, NETWORK_IO.logits);
  else if (d.outputName !== NETWORK_IO.logits) tail.node('Identity', [d.outputName], {}, NETWORK_IO.logits);
  const [h, t] = [head.done(), tail.done()];
  const trainable = weightsOf(model);
  const initializers = new Map<string, TensorProto>([
    ...[...h.initializers, ...t.initializers].map((x) => [x.name, x] as const),
    ...model.initializers,
  ]);
  if (options.fresh) reinitialise(model.nodes, initializers, trainable, new Random(options.seed).fork('init'));
  const graph: Graph = {
    ...model,
    nodes: [...h.nodes, ...model.nodes, ...t.nodes],
    initializers,
    inputs: [],
    outputs: [],
  };
  return {
    architecture,
    graph,
    imageShape: imageShapeOf(d),
    classes: d.classes,
    // A log-softmax or softmax output read as logits gives the same distribution; detectors are our RBF's kind only.
    outputKind: 'logits',
    trainable,
  };
}

function weightsOf(graph: Graph): string[] {
  const weights = new Set<string>();
  for (const node of graph.nodes)
    for (const slot of WEIGHT_INPUTS[node.opType] ?? []) {
      const name = node.inputs[slot];
      const t = name === undefined ? undefined : graph.initializers.get(name);
      if (t !== undefined && t.dataType === DataType.FLOAT && t.dims.length >= 1) weights.add(name as string);
    }
  return [...weights];
}

function reinitialise(
  nodes: readonly Node[],
  initializers: Map<string, TensorProto>,
  trainable: readonly string[],
  random: Random,
): void {
  const draws = new Set(trainable);
  const set = (name: string, values: (dims: number[]) => Float32Array) => {
    const t = initializers.get(name);
    if (t === undefined) return;
    const dims = t.dims.map(Number);
    initializers.set(name, floatTensor(name, dims, values(dims)));
  };
  const filled = (value: number) => (dims: number[]) => new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value);
  const heUniform = (fanIn: number) => (dims: number[]) => {
    const limit = Math.sqrt(6 / Math.max(1, fanIn));
    return Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (2 * random.next() - 1) * limit);
  };
  for (const node of nodes) {
    const [, w, b, mean, variance] = node.inputs;
    const dims = (name: string | undefined) => initializers.get(name ?? '')?.dims.map(Number) ?? [];
    switch (node.opType) {
      case 'Conv':
      case 'ConvTranspose':
        if (w !== undefined && draws.has(w)) {
          const k = dims(w);
          set(w, heUniform(k.slice(1).reduce((a, c) => a * c, 1)));
        }
        if (b !== undefined && draws.has(b)) set(b, filled(0));
        break;
      case 'Gemm':
        if (w !== undefined && draws.has(w)) {
          const transB = node.attributes.transB?.kind === 'int' && node.attributes.transB.value === 1;
          const k = dims(w);
          set(w, heUniform((transB ? k[1] : k[0]) ?? 1));
        }
        if (b !== undefined && draws.has(b)) set(b, filled(0));
        break;
      case 'BatchNormalization':
      case 'InstanceNormalization':
      case 'LayerNormalization':
      case 'GroupNormalization':
        if (w !== undefined && draws.has(w)) set(w, filled(1));
        if (b !== undefined && draws.has(b)) set(b, filled(0));
        if (node.opType === 'BatchNormalization') {
          if (mean !== undefined) set(mean, filled(0));
          if (variance !== undefined) set(variance, filled(1));
        }
        break;
      default:
        break;
    }
  }
}
