import { ints } from '../ir.js';
import { unary } from './elementwise.js';
import { attrInt, attrInts, attrString, badModel, normalizeAxis, Backward, type GradientBuilder } from './types.js';

/** Flatten, Reshape, Squeeze, Unsqueeze: the gradient is dY reshaped back to X's shape. */
export const reshapeGradient = unary((b, ctx, dy, out) => b.reshapeLike(dy, ctx.input(0), out));

/** Transpose: dY transposed by the inverse permutation. */
export const transposeGradient = unary((b, ctx, dy, out) => {
  const rank = ctx.shape(ctx.input(0)).length;
  const perm = attrInts(ctx.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  b.node('Transpose', [dy], { perm: ints(inverse) }, out);
});

/** Concat: each input's gradient is its slice of dY along the axis. */
export const concatGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  const rank = ctx.shape(ctx.output(0)).length;
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), rank);
  let start = 0;
  ctx.node.inputs.forEach((input, i) => {
    const size = ctx.shape(input)[axis] as number;
    if (size < 0) throw badModel(ctx.node, 'concatenation along the batch axis is not supported');
    if (ctx.needsGradient(i))
      b.node('Slice', [dy, b.int64s([start]), b.int64s([start + size]), b.int64s([axis])], {}, ctx.gradInput(i));
    start += size;
  });
  return b.done();
};

/**
 * Pad (constant mode): the gradient is dY with the padding sliced off; a negative pad (a crop)
 * gives zeros back where the forward pass dropped values. Pads are an attribute before opset 11,
 * an input after, with an optional axes input from opset 18.
 */
export const padGradient = unary((b, ctx, dy, out) => {
  const mode = attrString(ctx.node, 'mode', 'constant');
  if (mode !== 'constant') throw badModel(ctx.node, `mode ${mode} is not supported; only constant padding`);
  const xShape = ctx.shape(ctx.input(0));
  const rank = xShape.length;
  const given = attrInts(ctx.node, 'pads') ?? ctx.constant(ctx.input(1));
  if (given === undefined)
    throw badModel(ctx.node, 'its pads are computed at run time; only constant pads are supported');
  const axesInput = ctx.input(3);
  const axes =
    axesInput === ''
      ? Array.from({ length: rank }, (_, i) => i)
      : (ctx.constant(axesInput) ?? []).map((a) => normalizeAxis(a, rank));
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  axes.forEach((axis, i) => {
    begin[axis] = given[i] as number;
    end[axis] = given[i + axes.length] as number;
  });
  const sliceAxes = [...begin.keys()].filter((a) => (begin[a] as number) > 0 || (end[a] as number) > 0);
  let gradient = dy;
  if (sliceAxes.length > 0) {
    if (sliceAxes.some((a) => (xShape[a] as number) < 0))
      throw badModel(ctx.node, 'padding the batch axis is not supported');
    const starts = sliceAxes.map((a) => Math.max(begin[a] as number, 0));
    const ends = sliceAxes.map(
      (a, i) =>
        (starts[i] as number) + (xShape[a] as number) + Math.min(begin[a] as number, 0) + Math.min(end[a] as number, 0),
    );
    gradient = b.node('Slice', [dy, b.int64s(starts), b.int64s(ends), b.int64s(sliceAxes)]);
  }
  if (begin.some((p) => p < 0) || end.some((p) => p < 0)) {
    const restore = [...begin.map((p) => Math.max(-p, 0)), ...end.map((p) => Math.max(-p, 0))];
    b.node('Pad', [gradient, b.int64s(restore)], { mode: { kind: 'string', value: 'constant' } }, out);
  } else {
    b.node('Identity', [gradient], {}, out);
  }
});
