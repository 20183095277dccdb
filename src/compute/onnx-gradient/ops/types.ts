import { TransferbenchError } from '../../../common/errors.js';
import { tensorValues, type Node, type TensorProto } from '../ir.js';
import { Emitter } from '../emit.js';

/**
 * What a gradient builder may ask about its forward node (after onnxruntime's
 * GradientBuilderBase: I(i), O(i), GO(i), GI(i), IsGradientRequiredForSrcNodeInput).
 */
export interface GradientContext {
  readonly node: Node;
  readonly opset: number;
  /** Name of forward input i ('' when an optional input is absent). */
  input(i: number): string;
  output(i: number): string;
  /** Name of d(loss)/d(output i); undefined when nothing downstream needs that output. */
  gradOutput(i: number): string | undefined;
  /** The name the builder must write d(loss)/d(input i) to. */
  gradInput(i: number): string;
  /** Whether d(loss)/d(input i) is wanted (the input depends on what is differentiated). */
  needsGradient(i: number): boolean;
  /** Shape of any value, -1 for dimensions that grow with the batch. */
  shape(name: string): readonly number[];
  /** Values of a constant (initializer or folded) tensor, undefined for a computed one. */
  constant(name: string): number[] | undefined;
}

/** The nodes (and new constants) of one forward node's backward pass. */
export interface BackwardNodes {
  readonly nodes: readonly Node[];
  readonly initializers: readonly TensorProto[];
}

export type GradientBuilder = (ctx: GradientContext) => BackwardNodes;

export function badModel(node: Node, problem: string): TransferbenchError {
  return new TransferbenchError('BAD_MODEL', `ONNX gradient: ${node.opType} node ${node.name}: ${problem}`);
}

/** Collects one builder's nodes, named after its forward node (see Emitter). */
export class Backward extends Emitter {
  constructor(readonly ctx: GradientContext) {
    super(`${ctx.node.name}_grad`, ctx.opset);
  }

  /**
   * Reshape to another value's shape: a static target when at most one dimension grows with the
   * batch, else the value's runtime Shape.
   */
  reshapeLike(x: string, like: string, output?: string): string {
    const shape = this.ctx.shape(like);
    if (shape.filter((d) => d === -1).length <= 1) return this.reshape(x, shape, output);
    return this.node('Reshape', [x, this.node('Shape', [like])], {}, output);
  }

  /**
   * Sums a broadcast gradient back to the shape of the input it came from (numpy broadcasting:
   * leading axes the input lacks, and axes where it has size 1 and the output does not).
   */
  unbroadcast(gradient: string, outputShape: readonly number[], input: string, output: string): string {
    const inputShape = this.ctx.shape(input);
    const lead = outputShape.length - inputShape.length;
    const axes: number[] = [];
    for (let axis = 0; axis < outputShape.length; axis++) {
      const dim = axis < lead ? undefined : inputShape[axis - lead];
      if (dim === undefined || (dim === 1 && outputShape[axis] !== 1)) axes.push(axis);
    }
    if (axes.length === 0) return this.node('Identity', [gradient], {}, output);
    const summed = this.reduceSum(gradient, axes, true);
    return this.reshapeLike(summed, input, output);
  }
}

/** Attribute readers with the ONNX defaults given at the call. */
export function attrInt(node: Node, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.kind === 'int' ? a.value : fallback;
}

export function attrFloat(node: Node, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.kind === 'float' ? a.value : a?.kind === 'int' ? a.value : fallback;
}

export function attrInts(node: Node, name: string): readonly number[] | undefined {
  const a = node.attributes[name];
  return a?.kind === 'ints' ? a.value : undefined;
}

export function attrString(node: Node, name: string, fallback: string): string {
  const a = node.attributes[name];
  return a?.kind === 'string' ? a.value : fallback;
}

/**
 * Axes given as an attribute (older opsets) or as a constant input (newer ones); undefined when
 * neither is present.
 */
export function axesOf(ctx: GradientContext, inputIndex: number): readonly number[] | undefined {
  const fromAttribute = attrInts(ctx.node, 'axes');
  if (fromAttribute) return fromAttribute;
  const input = ctx.input(inputIndex);
  if (input === '') return undefined;
  const values = ctx.constant(input);
  if (values === undefined)
    throw badModel(ctx.node, `its axes (${input}) are computed at run time; only constant axes are supported`);
  return values;
}

export const normalizeAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

export { tensorValues };
