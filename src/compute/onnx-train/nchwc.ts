import * as ort from 'onnxruntime-node';
import { Emitter } from '../onnx-gradient/emit.js';
import {
  DataType,
  encodeModel,
  int,
  ints,
  str,
  valueInfo,
  type Graph,
  type Node,
  type TensorProto,
} from '../onnx-gradient/ir.js';
import type { Facts } from '../onnx-gradient/probe.js';

/**
 * onnxruntime's blocked-channel ("NCHWc") convolutions for the training graph. Its inference
 * sessions run Conv in that layout (MLAS kernels over blocks of 8 or 16 channels), but only when
 * the weights are constant: its graph transformer reorders them once at load. A training graph
 * feeds its weights as inputs, so its convolutions ran on the plain im2col + GEMM kernel, 1.3-1.7x
 * slower on model C's and the small CNN's layers. The blocked Conv reads its weights at run time,
 * so the training graph calls it directly (domain com.microsoft.nchwc, the operators the
 * transformer writes) with the weights reordered by two small graph nodes each step.
 */
const DOMAIN = 'com.microsoft.nchwc';

let probed: Promise<number> | undefined;

/**
 * The block size of this onnxruntime build and CPU (the channels a ReorderInput pads 4 channels
 * to), or 0 where the blocked kernels are absent: the training graph then keeps the plain Conv.
 */
export function nchwcBlockSize(): Promise<number> {
  probed ??= (async () => {
    const graph: Graph = {
      nodes: [{ opType: 'ReorderInput', name: 'probe', inputs: ['x'], outputs: ['y'], attributes: {}, domain: DOMAIN }],
      initializers: new Map(),
      inputs: [valueInfo('x', DataType.FLOAT, [1, 4, 1, 1])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, -1, 1, 1])],
      opset: 13,
      otherOpsets: [{ domain: DOMAIN, version: 1 }],
    };
    try {
      const session = await ort.InferenceSession.create(encodeModel(graph, 'nchwc probe'), { logSeverityLevel: 4 });
      try {
        const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) });
        return Number(out.y?.dims[1] ?? 0);
      } finally {
        await session.release();
      }
    } catch {
      return 0;
    }
  })();
  return probed;
}

/**
 * Every 2-D, ungrouped Conv whose input and output channels are multiples of `blockSize` becomes
 * ReorderInput -> blocked Conv -> ReorderOutput, its weights [O, C, kh, kw] reordered to the
 * blocked filter layout [O/B, C/B, kh, kw, B(c), B(o)] (MLAS's OIHWBiBo). A Relu that is the
 * Conv's only reader is fused into it, as the transformer does. A first layer (fewer input
 * channels than a block) keeps the plain Conv: there the reorders cost more than they saved.
 */
export function blockedConvolutions(graph: Graph, facts: Facts, blockSize: number): Graph {
  if (blockSize <= 1) return graph;
  const readers = new Map<string, Node[]>();
  for (const node of graph.nodes) for (const i of node.inputs) readers.set(i, [...(readers.get(i) ?? []), node]);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const shape = (name: string) => facts.get(name)?.shape ?? graph.initializers.get(name)?.dims.map(Number);
  const fused = new Set<Node>();
  const replaced = new Map<Node, Node[]>();
  const constants: TensorProto[] = [];
  for (const conv of graph.nodes) {
    if (conv.opType !== 'Conv' || conv.domain !== undefined) continue;
    const [x, w, bias] = [conv.inputs[0] as string, conv.inputs[1] as string, conv.inputs[2]];
    const xShape = shape(x);
    const wShape = shape(w);
    const group = conv.attributes.group;
    if (xShape?.length !== 4 || wShape?.length !== 4 || (group?.kind === 'int' && group.value !== 1)) continue;
    const [filters, channels, kh, kw] = wShape as [number, number, number, number];
    if (channels % blockSize !== 0 || filters % blockSize !== 0) continue;
    const emit = new Emitter(`${conv.name}/nchwc`, graph.opset);
    const blocked = emit.reshape(
      emit.node(
        'Transpose',
        [emit.reshape(w, [filters / blockSize, blockSize, channels / blockSize, blockSize, kh, kw])],
        { perm: ints([0, 2, 4, 5, 3, 1]) },
      ),
      [filters, channels, kh, kw],
    );
    const y = conv.outputs[0] as string;
    const next = readers.get(y) ?? [];
    const relu = next.length === 1 && next[0]?.opType === 'Relu' && !outputs.has(y) ? next[0] : undefined;
    if (relu) fused.add(relu);
    const reordered = emit.fresh('ReorderInput');
    const result = emit.fresh('Conv');
    const attributes = {
      ...conv.attributes,
      kernel_shape: ints([kh, kw]),
      ...(relu ? { activation: str('Relu') } : {}),
    };
    const { nodes, initializers } = emit.done();
    constants.push(...initializers);
    replaced.set(conv, [
      ...nodes,
      {
        opType: 'ReorderInput',
        name: `${conv.name}/nchwc/in`,
        inputs: [x],
        outputs: [reordered],
        attributes: {},
        domain: DOMAIN,
      },
      {
        opType: 'Conv',
        name: `${conv.name}/nchwc/conv`,
        inputs: [reordered, blocked, ...(bias ? [bias] : [])],
        outputs: [result],
        attributes,
        domain: DOMAIN,
      },
      {
        opType: 'ReorderOutput',
        name: `${conv.name}/nchwc/out`,
        inputs: [result],
        outputs: [relu ? (relu.outputs[0] as string) : y],
        attributes: { channels: int(filters) },
        domain: DOMAIN,
      },
    ]);
  }
  if (replaced.size === 0) return graph;
  const initializers = new Map(graph.initializers);
  for (const t of constants) initializers.set(t.name, t);
  return {
    ...graph,
    nodes: graph.nodes.flatMap((n) => (fused.has(n) ? [] : (replaced.get(n) ?? [n]))),
    initializers,
    otherOpsets: [...graph.otherOpsets.filter((o) => o.domain !== DOMAIN), { domain: DOMAIN, version: 1 }],
  };
}
