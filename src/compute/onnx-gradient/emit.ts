import {
  floatTensor,
  int,
  int64Tensor,
  ints,
  onnx,
  type Attribute,
  type Graph,
  type Node,
  type TensorProto,
} from './ir.js';

/**
 * Collects nodes and constants, naming every one under a prefix (a builder's: its forward node's
 * name), and writes the operators whose form changed across opsets 11-18 (axes as attribute or
 * input) the way the model's opset wants them.
 */
export class Emitter {
  private readonly nodes: Node[] = [];
  private readonly initializers: TensorProto[] = [];
  private counter = 0;

  constructor(
    private readonly prefix: string,
    readonly opset: number,
  ) {}

  /** Adds a node; its single output is `output` or a fresh name; returns that name. */
  node(opType: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}, output?: string): string {
    const name = output ?? this.fresh(opType);
    this.nodes.push({
      opType,
      name: `${this.prefix}/${opType}_${this.counter++}`,
      inputs,
      outputs: [name],
      attributes,
    });
    return name;
  }

  /** Adds a node with several outputs. */
  multi(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Record<string, Attribute> = {},
  ): void {
    this.nodes.push({ opType, name: `${this.prefix}/${opType}_${this.counter++}`, inputs, outputs, attributes });
  }

  fresh(label: string): string {
    return `${this.prefix}/${label}_${this.counter++}`;
  }

  floats(dims: readonly number[], values: readonly number[]): string {
    const name = this.fresh('const');
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }

  int64s(values: readonly number[]): string {
    const name = this.fresh('const');
    this.initializers.push(int64Tensor(name, [values.length], values));
    return name;
  }

  int32s(dims: readonly number[], values: readonly number[]): string {
    const name = this.fresh('const');
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [...dims],
        dataType: onnx.TensorProto.DataType.INT32,
        rawData: new Uint8Array(Int32Array.from(values).buffer),
      }),
    );
    return name;
  }

  /** ReduceSum over `axes`: axes as an input from opset 13. */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean, output?: string): string {
    if (this.opset >= 13)
      return this.node('ReduceSum', [x, this.int64s(axes)], { keepdims: int(keepdims ? 1 : 0) }, output);
    return this.node('ReduceSum', [x], { axes: ints(axes), keepdims: int(keepdims ? 1 : 0) }, output);
  }

  /** ReduceMax / ReduceMean over `axes`: axes as an input from opset 18. */
  reduce(
    opType: 'ReduceMax' | 'ReduceMean',
    x: string,
    axes: readonly number[],
    keepdims: boolean,
    output?: string,
  ): string {
    if (this.opset >= 18) return this.node(opType, [x, this.int64s(axes)], { keepdims: int(keepdims ? 1 : 0) }, output);
    return this.node(opType, [x], { axes: ints(axes), keepdims: int(keepdims ? 1 : 0) }, output);
  }

  unsqueeze(x: string, axes: readonly number[], output?: string): string {
    if (this.opset >= 13) return this.node('Unsqueeze', [x, this.int64s(axes)], {}, output);
    return this.node('Unsqueeze', [x], { axes: ints(axes) }, output);
  }

  /** Reshape to a static shape (at most one -1, the batch). */
  reshape(x: string, shape: readonly number[], output?: string): string {
    return this.node('Reshape', [x, this.int64s(shape)], {}, output);
  }

  done(): { nodes: Node[]; initializers: TensorProto[] } {
    return { nodes: this.nodes, initializers: this.initializers };
  }
}

/** What an Emitter collected: nodes and the constants they read. */
export type Emitted = ReturnType<Emitter['done']>;

/** `graph` with `parts` appended in order: their nodes after its own, their constants among its initializers. */
export function appendEmitted(graph: Graph, ...parts: readonly Emitted[]): Graph {
  return {
    ...graph,
    nodes: [...graph.nodes, ...parts.flatMap((p) => p.nodes)],
    initializers: new Map([
      ...graph.initializers,
      ...parts.flatMap((p) => p.initializers).map((t) => [t.name, t] as const),
    ]),
  };
}
