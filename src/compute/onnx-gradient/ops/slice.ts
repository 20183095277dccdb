import { unary } from './elementwise.js';
import { oneHotOf, scatterAlongAxis } from './gather.js';
import { attrInt, Backward, badModel, normalizeAxis, type GradientBuilder, type GradientContext } from './types.js';

/** The positions one axis of a Slice keeps (ONNX's clamping of starts and ends, negative steps). */
export function slicedPositions(start: number, end: number, step: number, size: number): number[] {
  const resolve = (v: number) => (v < 0 ? v + size : v);
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const first = clamp(resolve(start), 0, step > 0 ? size : size - 1);
  const last = clamp(resolve(end), step > 0 ? 0 : -1, step > 0 ? size : size - 1);
  const positions: number[] = [];
  for (let k = first; step > 0 ? k < last : k > last; k += step) positions.push(k);
  return positions;
}

function constantInput(ctx: GradientContext, i: number, what: string): number[] | undefined {
  const name = ctx.input(i);
  if (name === '') return undefined;
  const values = ctx.constant(name);
  if (values === undefined)
    throw badModel(ctx.node, `its ${what} are computed at run time; only constant (or folded) ones are supported`);
  return values;
}

/**
 * Slice (ShuffleNet's channel halves, Swin's x[:, 0::2, 1::2], ViT's token picks): dX is dY put back where
 * it was taken. Axes with step 1 are one Pad with zeros; an axis with another step scatters its positions
 * (scatterAlongAxis). Starts, ends, axes and steps must be constants (folded shape values are).
 */
export const sliceGradient = unary((b, ctx, dy, out) => {
  const xShape = ctx.shape(ctx.input(0));
  const rank = xShape.length;
  const starts = constantInput(ctx, 1, 'starts') ?? [];
  const ends = constantInput(ctx, 2, 'ends') ?? [];
  const axes = (constantInput(ctx, 3, 'axes') ?? starts.map((_, i) => i)).map((a) => normalizeAxis(a, rank));
  const steps = constantInput(ctx, 4, 'steps') ?? axes.map(() => 1);
  const padBegin = new Array<number>(rank).fill(0);
  const padEnd = new Array<number>(rank).fill(0);
  const shape = [...ctx.shape(ctx.output(0))];
  let gradient = dy;
  axes.forEach((axis, i) => {
    const [start, end, step] = [starts[i], ends[i], steps[i]] as [number, number, number];
    const size = xShape[axis] as number;
    if (size < 0) {
      if (start === 0 && end >= 2 ** 31 - 1 && step === 1) return;
      throw badModel(ctx.node, 'slicing the batch axis is not supported');
    }
    if (step === 0) throw badModel(ctx.node, 'a step of 0 is not allowed');
    const positions = slicedPositions(start, end, step, size);
    if (step === 1) {
      padBegin[axis] = positions[0] ?? 0;
      padEnd[axis] = size - (positions.length === 0 ? 0 : (positions[positions.length - 1] as number) + 1);
      return;
    }
    const oneHot = oneHotOf(b, positions, size);
    gradient = scatterAlongAxis(b, gradient, shape, axis, positions.length, size, oneHot, b.fresh('scattered'));
    shape[axis] = size;
  });
  if (padBegin.some((p) => p > 0) || padEnd.some((p) => p > 0))
    b.node('Pad', [gradient, b.int64s([...padBegin, ...padEnd])], {}, out);
  else b.node('Identity', [gradient], {}, out);
});

/**
 * Split (torch.chunk, ShuffleNet-V2's channel split at opset 13+ exports): dX is the outputs' gradients
 * concatenated back along the axis, zeros for an output nothing downstream reads.
 */
export const splitGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  if (!ctx.needsGradient(0)) return b.done();
  const rank = ctx.shape(ctx.input(0)).length;
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), rank);
  const gradients = ctx.node.outputs.map((_, i) => ctx.gradOutput(i));
  if (gradients.every((g) => g === undefined)) return b.done();
  const parts = gradients.map((g, i) => g ?? b.node('ConstantOfShape', [b.node('Shape', [ctx.output(i)])]));
  b.node('Concat', parts, { axis: { kind: 'int', value: axis } }, ctx.gradInput(0));
  return b.done();
};
