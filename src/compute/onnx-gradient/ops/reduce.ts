import { FLOAT, unary } from './elementwise.js';
import { attrInt, axesOf, normalizeAxis, type Backward, type GradientContext } from './types.js';

/**
 * The reduced axes (attribute before opset 13 for ReduceSum and 18 for the others, input after;
 * none given means all, unless noop_with_empty_axes), and dY with those axes restored as size 1.
 */
function reducedGradient(b: Backward, ctx: GradientContext, dy: string) {
  const xShape = ctx.shape(ctx.input(0));
  const rank = xShape.length;
  const given = axesOf(ctx, 1);
  const axes =
    given === undefined || given.length === 0
      ? attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1
        ? []
        : [...xShape.keys()]
      : given.map((a) => normalizeAxis(a, rank));
  const keepdims = attrInt(ctx.node, 'keepdims', 1) === 1;
  const restored =
    keepdims || axes.length === 0
      ? dy
      : b.unsqueeze(
          dy,
          [...axes].sort((p, q) => p - q),
        );
  const y =
    keepdims || axes.length === 0
      ? ctx.output(0)
      : b.unsqueeze(
          ctx.output(0),
          [...axes].sort((p, q) => p - q),
        );
  // Expand broadcasts size-1 axes; a dynamic batch axis that was kept stays as it is.
  const target = xShape.map((d, axis) => (d < 0 && !axes.includes(axis) ? 1 : d));
  // NaN when a reduced axis grows with the batch: then only the run knows the count.
  const count = axes.some((a) => (xShape[a] as number) < 0)
    ? Number.NaN
    : axes.reduce((n, a) => n * (xShape[a] as number), 1);
  const expand = (v: string, out?: string) =>
    target.some((d) => d < 0)
      ? b.node('Expand', [v, b.node('Shape', [ctx.input(0)])], {}, out)
      : b.node('Expand', [v, b.int64s(target)], {}, out);
  return { restored, y, count, expand };
}

export const reduceSumGradient = unary((b, ctx, dy, out) => {
  const r = reducedGradient(b, ctx, dy);
  r.expand(r.restored, out);
});

export const reduceMeanGradient = unary((b, ctx, dy, out) => {
  const r = reducedGradient(b, ctx, dy);
  // A mean over the batch axis (batch normalisation's statistics) divides by a count known only
  // at run time: size(Y) / size(X).
  const size = (v: string) => b.node('Cast', [b.node('Size', [v])], { to: FLOAT });
  const perElement = Number.isFinite(r.count)
    ? b.floats([], [1 / r.count])
    : b.node('Div', [size(ctx.output(0)), size(ctx.input(0))]);
  r.expand(b.node('Mul', [r.restored, perElement]), out);
});

/** ReduceMax: dY to every element equal to the maximum (tf.max's gradient does the same). */
export const reduceMaxGradient = unary((b, ctx, dy, out) => {
  const r = reducedGradient(b, ctx, dy);
  const mask = b.node('Cast', [b.node('Equal', [ctx.input(0), r.y])], { to: FLOAT });
  b.node('Mul', [mask, r.expand(r.restored)], {}, out);
});

/**
 * ReduceL2 (F.normalize's norm, Swin-V2's cosine attention): dY / Y * X, with 0 where Y is 0 as
 * torch's norm backward gives: every element of a zero vector is 0, so dividing dY by 1 there
 * keeps 0/0 out without changing any other element.
 */
export const reduceL2Gradient = unary((b, ctx, dy, out) => {
  const r = reducedGradient(b, ctx, dy);
  const zero = b.node('Equal', [r.y, b.floats([], [0])]);
  const divisor = b.node('Where', [zero, b.floats([], [1]), r.y]);
  b.node('Mul', [r.expand(b.node('Div', [r.restored, divisor])), ctx.input(0)], {}, out);
});
