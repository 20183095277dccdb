import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { TransferbenchError } from '../common/errors.js';
import { sha256File, type Layout, type TargetDescriptor } from './descriptor.js';
import { onnx } from './onnx/graph.js';

export interface TensorInfo {
  readonly name: string;
  readonly elemType: string;
  /** Dimensions; a symbolic one (batch) is its name. */
  readonly shape: (number | string)[];
}

export interface Inspection {
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  readonly opset: number;
  readonly lastOp: string;
  /** A descriptor to review and save as target.json beside the model. */
  readonly draft: TargetDescriptor;
}

function describe(value: InstanceType<typeof onnx.ValueInfoProto>): TensorInfo {
  const tensor = value.type?.tensorType;
  const elem = tensor?.elemType ?? 0;
  return {
    name: value.name ?? '',
    elemType: onnx.TensorProto.DataType[elem] ?? String(elem),
    shape: (tensor?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))),
  };
}

/** The file's stem, or its folder's name for a generic `model.onnx` (as zoo targets and exports are laid out). */
function draftName(path: string): string {
  const stem = basename(path).replace(/\.onnx$/, '');
  const name = stem === 'model' && basename(dirname(resolve(path))) !== '' ? basename(dirname(resolve(path))) : stem;
  return name.replace(/[^A-Za-z0-9._-]/g, '-');
}

/** An ONNX file's graph inputs (initializers left out) and outputs, as the graph declares them. */
export function graphSignature(path: string): {
  model: InstanceType<typeof onnx.ModelProto>;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
} {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(readFileSync(path));
  } catch (error) {
    throw new TransferbenchError('BAD_MODEL', `${path}: not a readable ONNX model (${(error as Error).message})`);
  }
  const graph = model.graph;
  if (!graph) throw new TransferbenchError('BAD_MODEL', `${path}: ONNX model has no graph`);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? [])
    .filter((i) => !initializers.has(i.name ?? ''))
    .map((v) => describe(v as InstanceType<typeof onnx.ValueInfoProto>));
  const outputs = (graph.output ?? []).map((v) => describe(v as InstanceType<typeof onnx.ValueInfoProto>));
  return { model, inputs, outputs };
}

/** Reads an ONNX file's graph inputs and outputs and drafts a descriptor for it. */
export function inspectOnnx(path: string): Inspection {
  const { model, inputs, outputs } = graphSignature(path);
  const graph = model.graph as NonNullable<typeof model.graph>;
  const input = inputs[0];
  const output = outputs[0];
  if (input === undefined || output === undefined)
    throw new TransferbenchError('BAD_MODEL', `${path}: the graph needs at least one input and one output`);
  const dims = input.shape.slice(1).map((d) => (typeof d === 'number' ? d : 0));
  // Channels first when the first non-batch dimension looks like channels and the last does not.
  const layout: Layout =
    dims.length === 3 && [1, 3].includes(dims[0] as number) && ![1, 3].includes(dims[2] as number) ? 'NCHW' : 'NHWC';
  const channels = layout === 'NCHW' ? (dims[0] as number) : (dims[2] as number);
  const classes =
    typeof output.shape[output.shape.length - 1] === 'number' ? (output.shape[output.shape.length - 1] as number) : 10;
  const nodes = graph.node ?? [];
  const lastOp = nodes[nodes.length - 1]?.opType ?? '';
  return {
    inputs,
    outputs,
    opset: Number(model.opsetImport?.[0]?.version ?? 0),
    lastOp,
    draft: {
      name: draftName(path),
      model: basename(path),
      sha256: sha256File(path),
      inputName: input.name,
      outputName: output.name,
      layout,
      inputShape: dims,
      inputRange: [0, 1],
      normalization: { mean: Array(Math.max(1, channels)).fill(0), std: Array(Math.max(1, channels)).fill(1) },
      outputKind: lastOp === 'Softmax' ? 'probabilities' : 'logits',
      classNames: Array.from({ length: classes }, (_, i) => String(i)),
      dataset: 'unknown',
    },
  };
}
