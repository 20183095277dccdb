import onnxProto from 'onnx-proto';
import { TransferbenchError } from '../../common/errors.js';

const { onnx } = onnxProto;
export { onnx };
export type TensorProto = InstanceType<typeof onnx.TensorProto>;
type Int64 = number | { toString(): string };

/**
 * The small in-memory form the gradient builder works on: nodes with decoded attributes and the
 * initializers as onnx-proto TensorProtos (weights pass through untouched, never re-encoded).
 * Attributes keep their ONNX kind because `alpha: 1` (a float) and `axis: 1` (an int) differ
 * on the wire.
 */
export type Attribute =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'tensor'; readonly value: TensorProto };

export const int = (value: number): Attribute => ({ kind: 'int', value });
export const float = (value: number): Attribute => ({ kind: 'float', value });
export const ints = (value: readonly number[]): Attribute => ({ kind: 'ints', value });
export const floats = (value: readonly number[]): Attribute => ({ kind: 'floats', value });
export const str = (value: string): Attribute => ({ kind: 'string', value });

export interface Node {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, Attribute>>;
  readonly domain?: string;
}

export interface Graph {
  nodes: Node[];
  /** Initializers by name. */
  initializers: Map<string, TensorProto>;
  /** Graph inputs that are not initializers, with their declared ValueInfo. */
  inputs: InstanceType<typeof onnx.ValueInfoProto>[];
  outputs: InstanceType<typeof onnx.ValueInfoProto>[];
  /** Version of the default ('' / ai.onnx) operator set. */
  opset: number;
  /** Other operator sets the model imports, kept as they are. */
  otherOpsets: { domain: string; version: number }[];
}

export const toNumber = (v: Int64): number => (typeof v === 'number' ? v : Number(v.toString()));

/**
 * The supported default-domain opsets: attribute-vs-input forms are handled from 11 through 18; 19 and 20
 * changed no supported operator's form (Gelu is new at 20; Pad's wrap and Resize's antialias are refused).
 */
export const MIN_OPSET = 11;
export const MAX_OPSET = 20;

export function decodeModel(bytes: Uint8Array): Graph {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new TransferbenchError(
      'BAD_MODEL',
      `ONNX gradient: the model bytes are not an ONNX ModelProto (${(error as Error).message})`,
    );
  }
  // Decoded messages are class instances with every field defaulted, whatever the I* types say.
  const graph = model.graph as InstanceType<typeof onnx.GraphProto> | null;
  if (!graph) throw new TransferbenchError('BAD_MODEL', 'ONNX gradient: the model has no graph');
  const opsets = model.opsetImport.map((o) => ({ domain: o.domain ?? '', version: toNumber(o.version as Int64) }));
  const opset = opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new TransferbenchError(
      'BAD_MODEL',
      `ONNX gradient: the model uses opset ${opset}; supported opsets ` +
        `are ${MIN_OPSET} to ${MAX_OPSET} (re-export with e.g. torch.onnx.export(..., ` +
        `opset_version=17))`,
    );
  }
  const initializers = new Map<string, TensorProto>();
  for (const t of graph.initializer as TensorProto[]) {
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      throw new TransferbenchError(
        'BAD_MODEL',
        `ONNX gradient: initializer ${t.name} is stored as external data; ` +
          `save the model with its weights inside (onnx.save(model, path, ` +
          `save_as_external_data=False))`,
      );
    }
    initializers.set(t.name, t);
  }
  const nodes = (graph.node as InstanceType<typeof onnx.NodeProto>[]).map((n, index) => decodeNode(n, index));
  const valueInfos = (list: unknown) => list as InstanceType<typeof onnx.ValueInfoProto>[];
  return {
    nodes,
    initializers,
    inputs: valueInfos(graph.input).filter((i) => !initializers.has(i.name)),
    outputs: [...valueInfos(graph.output)],
    opset,
    otherOpsets: opsets.filter((o) => o.domain !== '' && o.domain !== 'ai.onnx'),
  };
}

function decodeNode(n: InstanceType<typeof onnx.NodeProto>, index: number): Node {
  const attributes: Record<string, Attribute> = {};
  const { AttributeType } = onnx.AttributeProto;
  for (const a of n.attribute as InstanceType<typeof onnx.AttributeProto>[]) {
    switch (a.type) {
      case AttributeType.INT:
        attributes[a.name] = int(toNumber(a.i as Int64));
        break;
      case AttributeType.FLOAT:
        attributes[a.name] = float(a.f);
        break;
      case AttributeType.INTS:
        attributes[a.name] = ints(a.ints.map((v) => toNumber(v as Int64)));
        break;
      case AttributeType.FLOATS:
        attributes[a.name] = floats([...a.floats]);
        break;
      case AttributeType.STRING:
        attributes[a.name] = str(new TextDecoder().decode(a.s));
        break;
      case AttributeType.TENSOR:
        if (a.t) attributes[a.name] = { kind: 'tensor', value: a.t as TensorProto };
        break;
      default:
        break; // graphs (If/Loop bodies) are refused later as unsupported operators
    }
  }
  const domain = n.domain && n.domain !== 'ai.onnx' ? n.domain : undefined;
  return {
    opType: n.opType,
    name: n.name || `${n.opType}_${index}`,
    inputs: [...n.input],
    outputs: [...n.output],
    attributes,
    ...(domain ? { domain } : {}),
  };
}

export function encodeModel(graph: Graph, docString: string): Uint8Array {
  const { AttributeType } = onnx.AttributeProto;
  const attribute = (name: string, a: Attribute) => {
    switch (a.kind) {
      case 'int':
        return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: a.value });
      case 'float':
        return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: a.value });
      case 'ints':
        return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: [...a.value] });
      case 'floats':
        return onnx.AttributeProto.create({ name, type: AttributeType.FLOATS, floats: [...a.value] });
      case 'string':
        return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(a.value) });
      case 'tensor':
        return onnx.AttributeProto.create({ name, type: AttributeType.TENSOR, t: a.value });
    }
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'transferbench-onnx-gradient',
    docString,
    opsetImport: [{ domain: '', version: graph.opset }, ...graph.otherOpsets],
    graph: onnx.GraphProto.create({
      name: 'gradient',
      node: graph.nodes.map((n) =>
        onnx.NodeProto.create({
          opType: n.opType,
          name: n.name,
          input: [...n.inputs],
          output: [...n.outputs],
          domain: n.domain ?? '',
          attribute: Object.entries(n.attributes).map(([name, a]) => attribute(name, a)),
        }),
      ),
      initializer: [...graph.initializers.values()],
      input: graph.inputs,
      output: graph.outputs,
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}

export const DataType = onnx.TensorProto.DataType;

/** The values of a (small) constant tensor as numbers: shapes, axes, pads, clip bounds. */
export function tensorValues(t: TensorProto): number[] {
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  switch (t.dataType) {
    case DataType.FLOAT:
      return view
        ? Array.from({ length: view.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true))
        : [...t.floatData];
    case DataType.DOUBLE:
      return view
        ? Array.from({ length: view.byteLength / 8 }, (_, i) => view.getFloat64(i * 8, true))
        : [...t.doubleData];
    case DataType.INT64:
      return view
        ? Array.from({ length: view.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)))
        : t.int64Data.map((v) => toNumber(v as Int64));
    case DataType.INT32:
      return view
        ? Array.from({ length: view.byteLength / 4 }, (_, i) => view.getInt32(i * 4, true))
        : [...t.int32Data];
    default:
      throw new TransferbenchError(
        'BAD_MODEL',
        `ONNX gradient: constant ${t.name} has data type ${t.dataType}; expected float, double, int32 or int64`,
      );
  }
}

export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  const data = Float32Array.from(values);
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(data.buffer),
  });
}

export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: DataType.INT64,
    rawData: new Uint8Array(data.buffer),
  });
}

export function valueInfo(
  name: string,
  elemType: number,
  dims: readonly (number | string)[],
): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            typeof d === 'string'
              ? onnx.TensorShapeProto.Dimension.create({ dimParam: d })
              : onnx.TensorShapeProto.Dimension.create({ dimValue: d }),
          ),
        }),
      }),
    }),
  });
}
