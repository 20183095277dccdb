import { TransferbenchError } from '../../common/errors.js';
import { DataType, floatTensor, int64Tensor, onnx, type Graph, type Node, type TensorProto } from './ir.js';
import type { Facts } from './probe.js';

/**
 * Folds what does not depend on the images into initializers: Constant nodes, and every integer
 * value (Shape -> Gather -> Unsqueeze -> Concat -> Cast chains) that the probe saw take the same
 * value at batch 1 and batch 2. A Reshape target that does depend on the batch in exactly one
 * entry gets a static target with -1 there. What is left unused is dropped (`prune`). The
 * backward pass then never meets a shape sub-graph, and onnxruntime runs fewer tiny nodes.
 */
export function foldShapeGraphs(graph: Graph, facts: Facts): Graph {
  const initializers = new Map(graph.initializers);
  const nodes: Node[] = [];
  // Values that depend on pixel values, not only on shapes: an ArgMax is never folded, even
  // though the probe saw one value for it.
  const dataDependent = new Set(graph.inputs.map((i) => i.name));
  for (const node of graph.nodes) {
    if (!SHAPE_READERS.has(node.opType) && node.inputs.some((i) => dataDependent.has(i)))
      for (const o of node.outputs) dataDependent.add(o);
  }
  for (const node of graph.nodes) {
    if (node.opType === 'Constant' && node.outputs.length === 1) {
      initializers.set(node.outputs[0] as string, constantNodeValue(node));
      continue;
    }
    const folded = node.outputs.every((o) => {
      if (dataDependent.has(o)) return false;
      const f = facts.get(o);
      return f?.values !== undefined && sameValues(f.values[0], f.values[1]) && !f.shape.includes(-1);
    });
    if (folded && node.outputs.length > 0) {
      for (const o of node.outputs) {
        const f = facts.get(o);
        if (f?.values) initializers.set(o, int64Like(o, f.type, f.shape, f.values[0]));
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
