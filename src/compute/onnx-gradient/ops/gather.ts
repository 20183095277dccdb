import { int } from '../ir.js';
import { FLOAT, unary } from './elementwise.js';
import { attrInt, type Backward, badModel, normalizeAxis, type GradientContext } from './types.js';

const product = (dims: readonly number[]) => dims.reduce((a, d) => a * d, 1);

/**
 * The adjoint of selecting `count` positions along `axis` of a value with `size` positions there: dY, seen
 * as [P, count, Q] (P the axes before, Q those after), is multiplied by the [size, count] one-hot matrix of
 * the selected positions, so repeated positions sum. `oneHot` is that matrix, a constant or computed.
 * One MatMul: Gather, Slice with a step and the attention exports' index picks all reduce to it.
 */
export function scatterAlongAxis(
  b: Backward,
  dy: string,
  dyShape: readonly number[],
  axis: number,
  count: number,
  size: number,
  oneHot: string,
  output: string,
): string {
  const before = dyShape.slice(0, axis);
  const after = dyShape.slice(axis + 1);
  if ([...before, ...after].filter((d) => d < 0).length > 1)
    throw badModel(b.ctx.node, 'at most one dynamic dimension (the batch) is supported');
  const known = (dims: readonly number[]) => (dims.some((d) => d < 0) ? -1 : product(dims));
  const rows = b.reshape(dy, [known(before), count, known(after)]);
  const scattered = b.node('MatMul', [oneHot, rows]);
  return b.reshape(scattered, [...before, size, ...after], output);
}

/** The one-hot [size, count] matrix of constant positions (negative ones count from the end). */
export function oneHotOf(b: Backward, positions: readonly number[], size: number): string {
  const values = new Array<number>(size * positions.length).fill(0);
  positions.forEach((p, i) => {
    const k = p < 0 ? p + size : p;
    if (k < 0 || k >= size) throw badModel(b.ctx.node, `index ${p} is out of range for a dimension of ${size}`);
    values[k * positions.length + i] = 1;
  });
  return b.floats([size, positions.length], values);
}

function dataAxis(ctx: GradientContext) {
  const xShape = ctx.shape(ctx.input(0));
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), xShape.length);
  const size = xShape[axis] as number;
  if (size < 0) throw badModel(ctx.node, 'gathering along the batch axis is not supported');
  return { xShape, axis, size };
}

/**
 * Gather on data (ViT's class token x[:, 0], an embedding lookup): Y = data[..., indices, ...] along
 * `axis`, so dData scatters dY back (scatterAlongAxis). The indices get no gradient; they must be constant
 * (positions picked by the images would need GatherElements' runtime one-hot).
 */
export const gatherGradient = unary((b, ctx, dy, out) => {
  const { axis, size } = dataAxis(ctx);
  const indices = ctx.input(1);
  const indexShape = ctx.shape(indices);
  if (indexShape.some((d) => d < 0)) throw badModel(ctx.node, 'indices that grow with the batch are not supported');
  const count = product(indexShape);
  const constant = ctx.constant(indices);
  if (constant === undefined)
    throw badModel(ctx.node, 'its indices are computed at run time; only constant (or folded) indices are supported');
  const oneHot = oneHotOf(b, constant, size);
  const yShape = ctx.shape(ctx.output(0));
  // dY as [..., count, ...]: the index axes flattened into one.
  const flatShape = [...yShape.slice(0, axis), count, ...yShape.slice(axis + indexShape.length)];
  const scattered = scatterAlongAxis(b, dy, flatShape, axis, count, size, oneHot, b.fresh('scattered'));
  b.reshapeLike(scattered, ctx.input(0), out);
});

/**
 * GatherElements: Y[i][j][k] = data[index[i][j][k]][j][k] along `axis` (torch.gather). Each output element
 * adds dY to one position: OneHot over that axis (an axis of size `size` after it), times dY, summed over
 * the indices' own axis; padded with zeros where the indices are shorter than the data on other axes.
 */
export const gatherElementsGradient = unary((b, ctx, dy, out) => {
  const { xShape, axis, size } = dataAxis(ctx);
  const indexShape = ctx.shape(ctx.input(1));
  const hot = b.node('OneHot', [ctx.input(1), b.int64s([size]), b.floats([2], [0, 1])], { axis: int(axis + 1) });
  const spread = b.node('Mul', [b.node('Cast', [hot], { to: FLOAT }), b.unsqueeze(dy, [axis + 1])]);
  const summed = b.reduceSum(spread, [axis], false);
  const short = xShape.map((d, i) => (i === axis ? 0 : d - (indexShape[i] as number)));
  if (short.some((d, i) => d !== 0 && (xShape[i] as number) < 0))
    throw badModel(ctx.node, 'indices shorter than the data along the batch axis are not supported');
  if (short.every((d) => d === 0)) b.node('Identity', [summed], {}, out);
  else b.node('Pad', [summed, b.int64s([...short.map(() => 0), ...short])], {}, out);
});
