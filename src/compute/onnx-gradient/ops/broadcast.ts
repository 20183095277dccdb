import { unary } from './elementwise.js';
import { Backward, badModel, type GradientBuilder } from './types.js';

/** Expand (ViT's class token broadcast over the batch): dY summed back over the broadcast axes. */
export const expandGradient = unary((b, ctx, dy, out) => {
  b.unbroadcast(dy, ctx.shape(ctx.output(0)), ctx.input(0), out);
});

/**
 * Tile: Y's axis k holds repeats[k] copies of X's, so dY seen as [r0, d0, r1, d1, ...] summed over the
 * r axes is dX. A batch axis may only be repeated once.
 */
export const tileGradient = unary((b, ctx, dy, out) => {
  const xShape = ctx.shape(ctx.input(0));
  const repeats = ctx.constant(ctx.input(1));
  if (repeats === undefined)
    throw badModel(ctx.node, 'its repeats are computed at run time; only constant (or folded) ones are supported');
  if (xShape.some((d, i) => d < 0 && repeats[i] !== 1))
    throw badModel(ctx.node, 'repeating the batch axis is not supported');
  const split = xShape.flatMap((d, i) => [repeats[i] as number, d]);
  const summed = b.reduceSum(
    b.reshape(dy, split),
    xShape.map((_, i) => 2 * i),
    false,
  );
  b.node('Identity', [summed], {}, out);
});

/** Where(condition, X, Y): dY goes to X where the condition holds and to Y elsewhere, each summed to its shape. */
export const whereGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  const outShape = ctx.shape(ctx.output(0));
  const zero = b.floats([], [0]);
  const condition = ctx.input(0);
  if (ctx.needsGradient(1))
    b.unbroadcast(b.node('Where', [condition, dy, zero]), outShape, ctx.input(1), ctx.gradInput(1));
  if (ctx.needsGradient(2))
    b.unbroadcast(b.node('Where', [condition, zero, dy]), outShape, ctx.input(2), ctx.gradInput(2));
  return b.done();
};
