import * as ort from 'onnxruntime-node';
import { Random } from '../../../src/common/random.js';
import type { OnnxModelDescription } from '../../../src/compute/onnx-gradient/heads.js';
import {
  DataType,
  encodeModel,
  floatTensor,
  int,
  int64Tensor,
  ints,
  valueInfo,
  type Attribute,
  type Graph,
  type Node,
  type TensorProto,
} from '../../../src/compute/onnx-gradient/ir.js';

/**
 * Small random ONNX graphs for the gradient tests: an NCHW input `x`, the nodes under test, then
 * (classifier()) a Flatten and a random Gemm to a few classes, so the graph is a classifier the
 * builder accepts and every operator's gradient is checked through a real loss.
 */
export class TinyGraph {
  private readonly nodes: Node[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly random: Random;
  private counter = 0;

  constructor(
    readonly inputShape: readonly [number, number, number],
    readonly opset = 13,
    seed = 1,
  ) {
    this.random = new Random(seed);
  }

  /** A random weight in [-scale, scale]. */
  weight(dims: readonly number[], scale = 0.5): string {
    const name = `w${this.counter++}`;
    const size = dims.reduce((a, b) => a * b, 1);
    this.initializers.push(
      floatTensor(
        name,
        dims,
        Array.from({ length: size }, () => (this.random.next() * 2 - 1) * scale),
      ),
    );
    return name;
  }

  /** A positive random weight in [lo, hi] (variances, divisors). */
  positive(dims: readonly number[], lo = 0.5, hi = 1.5): string {
    const name = `w${this.counter++}`;
    const size = dims.reduce((a, b) => a * b, 1);
    this.initializers.push(
      floatTensor(
        name,
        dims,
        Array.from({ length: size }, () => lo + this.random.next() * (hi - lo)),
      ),
    );
    return name;
  }

  floats(dims: readonly number[], values: readonly number[]): string {
    const name = `c${this.counter++}`;
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }

  int64s(values: readonly number[]): string {
    const name = `c${this.counter++}`;
    this.initializers.push(int64Tensor(name, [values.length], values));
    return name;
  }

  int64Scalar(value: number): string {
    const name = `c${this.counter++}`;
    this.initializers.push(int64Tensor(name, [], [value]));
    return name;
  }

  node(opType: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}, outputs = 1): string {
    const names = Array.from({ length: outputs }, (_, i) => `${opType.toLowerCase()}${this.counter}_${i}`);
    this.nodes.push({ opType, name: `${opType}_${this.counter++}`, inputs, outputs: names, attributes });
    return names[0] as string;
  }

  /** Name of the node added last (for options that name a node). */
  lastNodeName(): string {
    return this.nodes[this.nodes.length - 1]?.name ?? '';
  }

  /** The graph with `value` flattened and mapped to `classes` logits by a random Gemm. */
  async classifier(value: string, classes = 3): Promise<{ bytes: Uint8Array; description: OnnxModelDescription }> {
    const width = await this.widthOf(value);
    const flat = this.node('Flatten', [value], { axis: int(1) });
    const gemm = this.node('Gemm', [
      flat,
      this.weight([width, classes], 1 / Math.sqrt(width)),
      this.weight([classes], 0.1),
    ]);
    return { bytes: this.encode(gemm), description: this.description(gemm, classes) };
  }

  /** The graph as it stands, `value` being already [N, classes]. */
  asIs(value: string, classes: number): { bytes: Uint8Array; description: OnnxModelDescription } {
    return { bytes: this.encode(value), description: this.description(value, classes) };
  }

  private description(output: string, classes: number): OnnxModelDescription {
    return {
      inputName: 'x',
      outputName: output,
      layout: 'NCHW',
      inputShape: this.inputShape,
      inputRange: [0, 1],
      normalization: { mean: [0.5], std: [0.5] },
      outputKind: 'logits',
      classes,
    };
  }

  private encode(output: string): Uint8Array {
    const graph: Graph = {
      nodes: this.nodes,
      initializers: new Map(this.initializers.map((t) => [t.name, t])),
      inputs: [valueInfo('x', DataType.FLOAT, ['batch', ...this.inputShape])],
      outputs: [{ name: output } as Graph['outputs'][number]],
      opset: this.opset,
      otherOpsets: [],
    };
    return encodeModel(graph, 'tiny test graph');
  }

  /** Elements per image of `value`, from onnxruntime at batch 1. */
  private async widthOf(value: string): Promise<number> {
    const session = await ort.InferenceSession.create(this.encode(value));
    try {
      const size = this.inputShape.reduce((a, b) => a * b, 1);
      const out = await session.run({
        x: new ort.Tensor('float32', new Float32Array(size).fill(0.5), [1, ...this.inputShape]),
      });
      return (out[value] as ort.Tensor).size;
    } finally {
      await session.release();
    }
  }
}

export { int, ints };
