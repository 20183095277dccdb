import { Backward, type GradientBuilder } from './types.js';

/**
 * PRelu, y = x for x > 0 else slope x, the slope broadcast (one per channel, [C, 1, 1], in PyTorch's export):
 * dX = dY where x > 0 else dY slope; d slope = dY x where x <= 0, summed back to the slope's shape
 * (PyTorch's prelu_backward, which sends x = 0 to the slope's side).
 */
export const preluGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  const x = ctx.input(0);
  const slope = ctx.input(1);
  const outShape = ctx.shape(ctx.output(0));
  const positive = b.node('Greater', [x, b.floats([], [0])]);
  if (ctx.needsGradient(0)) {
    const local = b.node('Where', [positive, dy, b.node('Mul', [dy, slope])]);
    b.unbroadcast(local, outShape, x, ctx.gradInput(0));
  }
  if (ctx.needsGradient(1)) {
    const local = b.node('Where', [positive, b.floats([], [0]), b.node('Mul', [dy, x])]);
    b.unbroadcast(local, outShape, slope, ctx.gradInput(1));
  }
  return b.done();
};
