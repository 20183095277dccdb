import { unary } from './elementwise.js';
import { attrInt, normalizeAxis, type Backward, type GradientContext } from './types.js';

/**
 * The axes a softmax normalises over: its one axis from opset 13 (default -1); before, the input
 * was coerced to 2-D at `axis` (default 1), so it normalised over every axis from `axis` on.
 * Summing over those axes gives the right gradient in both cases.
 */
function softmaxAxes(ctx: GradientContext): number[] {
  const rank = ctx.shape(ctx.input(0)).length;
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', ctx.opset >= 13 ? -1 : 1), rank);
  return ctx.opset >= 13 ? [axis] : Array.from({ length: rank - axis }, (_, i) => axis + i);
}

/** dX = Y * (dY - sum(dY * Y)). */
export const softmaxGradient = unary((b: Backward, ctx, dy, out) => {
  const y = ctx.output(0);
  const dot = b.reduceSum(b.node('Mul', [dy, y]), softmaxAxes(ctx), true);
  b.node('Mul', [y, b.node('Sub', [dy, dot])], {}, out);
});

/** dX = dY - exp(Y) * sum(dY). */
export const logSoftmaxGradient = unary((b: Backward, ctx, dy, out) => {
  const total = b.reduceSum(dy, softmaxAxes(ctx), true);
  b.node('Sub', [dy, b.node('Mul', [b.node('Exp', [ctx.output(0)]), total])], {}, out);
});
