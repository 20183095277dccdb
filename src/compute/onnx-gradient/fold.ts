import { TransferbenchError } from '../../common/errors.js';
import type * as ort from 'onnxruntime-node';
import { DataType, floatTensor, int64Tensor, onnx, type Graph, type Node, type TensorProto } from './ir.js';
import type { Facts } from './probe.js';

/**
 * Folds what does not depend on the images into initializers: Constant nodes, every integer value
 * (Shape -> Gather -> Unsqueeze -> Concat -> Cast chains) that the probe saw take the same value at
 * batch 1 and batch 2, and with `values` every other value the probe kept whole (ProbeInput's
 * `constants`: Swin's attention masks from ConstantOfShape, Range, Mod, ScatterND, Equal, Not and
 * Where, its relative position biases, Swin-V2's position bias MLP, clamped logit scale and zeroed
 * qkv bias, ViT's position embedding arithmetic). A Reshape target that does depend on the batch in
 * exactly one entry gets a static target with -1 there. What is left unused is dropped (`prune`).
 * The backward pass then never meets a shape or mask sub-graph, and onnxruntime runs fewer tiny
 * nodes. What grows with the batch (ViT's class token expanded to N rows) stays a node: it is off
 * the differentiated path, and no constant can hold it.
 */
export function foldShapeGraphs(graph: Graph, facts: Facts, options: { readonly values?: boolean } = {}): Graph {
  const initializers = new Map(graph.initializers);
  const nodes: Node[] = [];
  const dataDependent = imageDependentValues(graph);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  for (const node of graph.nodes) {
    if (node.opType === 'Constant' && node.outputs.length === 1) {
      initializers.set(node.outputs[0] as string, constantNodeValue(node));
      continue;
    }
    const folded = node.outputs.every((o) => {
      if (dataDependent.has(o) || outputs.has(o)) return false;
      const f = facts.get(o);
      if (options.values === true && f?.constant !== undefined) return true;
      return f?.values !== undefined && sameValues(f.values[0], f.values[1]) && !f.shape.includes(-1);
    });
    if (folded && node.outputs.length > 0) {
      for (const o of node.outputs) {
        const f = facts.get(o);
        if (options.values === true && f?.constant) initializers.set(o, tensorProtoOf(o, f.constant));
        else if (f?.values) initializers.set(o, int64Like(o, f.type, f.shape, f.values[0]));
      }
      continue;
    }
    if (node.opType === 'Reshape') {
      const target = facts.get(node.inputs[1] ?? '')?.values;
      if (
        target &&
        !dataDependent.has(node.inputs[1] ?? '') &&
        !sameValues(target[0], target[1]) &&
        target[0].length === target[1].length
      ) {
        const varying = target[0].map((v, i) => (v === target[1][i] ? -2 : i)).filter((i) => i >= 0);
        if (varying.length === 1 && !target[0].includes(-1)) {
          const name = `${node.name}/static_shape`;
          initializers.set(
            name,
            int64Tensor(
              name,
              [target[0].length],
              target[0].map((v, i) => (i === varying[0] ? -1 : v)),
            ),
          );
          nodes.push({ ...node, inputs: [node.inputs[0] as string, name] });
          continue;
        }
      }
    }
    nodes.push(node);
  }
  return prune(
    { ...graph, nodes, initializers },
    graph.outputs.map((o) => o.name),
  );
}

const SHAPE_READERS = new Set(['Shape', 'Size']);

/**
 * The values that depend on the pixel values (any graph input: images, labels, kappa), not only on
 * their shapes: an ArgMax is never folded, even though the probe saw one value for it.
 */
export function imageDependentValues(graph: Graph): Set<string> {
  const dependent = new Set(graph.inputs.map((i) => i.name));
  for (const node of graph.nodes) {
    if (!SHAPE_READERS.has(node.opType) && node.inputs.some((i) => dependent.has(i)))
      for (const o of node.outputs) dependent.add(o);
  }
  return dependent;
}

/** The node outputs that imageDependentValues leaves out: what the probe should keep whole. */
export function valuesWithoutImages(graph: Graph): Set<string> {
  const dependent = imageDependentValues(graph);
  return new Set(graph.nodes.flatMap((n) => n.outputs.filter((o) => o !== '' && !dependent.has(o))));
}

const ORT_TYPES: Record<string, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  int64: DataType.INT64,
  int32: DataType.INT32,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  bool: DataType.BOOL,
};

/** An onnxruntime tensor as an initializer (little-endian raw data, as onnxruntime wrote it). */
function tensorProtoOf(name: string, t: ort.Tensor): TensorProto {
  const dataType = ORT_TYPES[t.type];
  if (dataType === undefined)
    throw new TransferbenchError('BAD_MODEL', `ONNX gradient: cannot fold value ${name} of type ${t.type}`);
  const data = t.data as ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number };
  const rawData =
    t.type === 'bool'
      ? Uint8Array.from(data as ArrayLike<number | boolean>, (v) => (v ? 1 : 0))
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return onnx.TensorProto.create({ name, dims: [...t.dims], dataType, rawData });
}

/** Drops the nodes and initializers that no wanted output needs. */
export function prune(graph: Graph, wanted: readonly string[]): Graph {
  const needed = new Set(wanted);
  const kept: Node[] = [];
  for (const node of [...graph.nodes].reverse()) {
    if (!node.outputs.some((o) => needed.has(o))) continue;
    kept.push(node);
    for (const i of node.inputs) if (i !== '') needed.add(i);
  }
  const initializers = new Map([...graph.initializers].filter(([name]) => needed.has(name)));
  return { ...graph, nodes: kept.reverse(), initializers };
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function int64Like(name: string, type: string, shape: readonly number[], values: readonly number[]): TensorProto {
  if (type === 'int64') return int64Tensor(name, shape, values);
  return onnx.TensorProto.create({
    name,
    dims: [...shape],
    dataType: DataType.INT32,
    rawData: new Uint8Array(Int32Array.from(values).buffer),
  });
}

function constantNodeValue(node: Node): TensorProto {
  const name = node.outputs[0] as string;
  const a = node.attributes;
  const value = a.value;
  if (value?.kind === 'tensor') return onnx.TensorProto.create({ ...value.value, name });
  const single = a.value_float ?? a.value_int;
  if (single?.kind === 'float') return floatTensor(name, [], [single.value]);
  if (single?.kind === 'int') return int64Tensor(name, [], [single.value]);
  const list = a.value_floats ?? a.value_ints;
  if (list?.kind === 'floats') return floatTensor(name, [list.value.length], list.value);
  if (list?.kind === 'ints') return int64Tensor(name, [list.value.length], list.value);
  throw new TransferbenchError(
    'BAD_MODEL',
    `ONNX gradient: Constant node ${node.name} has no value, value_float(s) ` +
      `or value_int(s) attribute (sparse or string constants are not ` +
      `supported)`,
  );
}
