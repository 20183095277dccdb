import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export { onnx };

type AttributeValue = number | number[] | string;

/**
 * A small builder over the official ONNX protobuf schema (onnx-proto): nodes get unique output
 * names, weights become initializers, and the model is serialised with protobufjs.
 */
export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;

  /** Adds a node and returns the name of its (single) output. */
  node(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputName?: string): string {
    const output = outputName ?? `${opType.toLowerCase()}_${this.counter++}`;
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        name: `${opType}_${this.nodes.length}`,
        input: inputs,
        output: [output],
        attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
      }),
    );
    return output;
  }

  /** A float32 constant (weights, biases). */
  constant(name: string, dims: number[], values: Float32Array): string {
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: onnx.TensorProto.DataType.FLOAT,
        rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
      }),
    );
    return name;
  }

  /** An int64 constant (shapes). */
  int64Constant(name: string, values: number[]): string {
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [values.length],
        dataType: onnx.TensorProto.DataType.INT64,
        int64Data: values,
      }),
    );
    return name;
  }

  /** Serialises the graph as a model with a dynamic batch dimension. */
  build(options: {
    inputName: string;
    inputShape: number[];
    outputName: string;
    outputWidth: number;
    opset: number;
    docString: string;
  }): Uint8Array {
    const valueInfo = (name: string, dims: number[]) =>
      onnx.ValueInfoProto.create({
        name,
        type: onnx.TypeProto.create({
          tensorType: onnx.TypeProto.Tensor.create({
            elemType: onnx.TensorProto.DataType.FLOAT,
            shape: onnx.TensorShapeProto.create({
              dim: [
                onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' }),
                ...dims.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d })),
              ],
            }),
          }),
        }),
      });
    const model = onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'transferbench',
      docString: options.docString,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: options.opset })],
      graph: onnx.GraphProto.create({
        name: 'transferbench',
        node: this.nodes,
        initializer: this.initializers,
        input: [valueInfo(options.inputName, options.inputShape)],
        output: [valueInfo(options.outputName, [options.outputWidth])],
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function attribute(name: string, value: AttributeValue): InstanceType<typeof onnx.AttributeProto> {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'string')
    return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: value });
  return Number.isInteger(value)
    ? onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value })
    : onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value });
}
