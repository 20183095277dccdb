import { int } from '../ir.js';
import { Backward, type GradientBuilder, type GradientContext } from './types.js';

const FLOAT = int(1);

/**
 * The binary arithmetic operators with numpy broadcasting: each input's gradient is computed at
 * the output's shape and summed back over the axes that input was broadcast along.
 */
function binary(local: (b: Backward, ctx: GradientContext, dy: string, input: 0 | 1) => string): GradientBuilder {
  return (ctx) => {
    const b = new Backward(ctx);
    const dy = ctx.gradOutput(0);
    if (dy === undefined) return b.done();
    const outShape = ctx.shape(ctx.output(0));
    for (const i of [0, 1] as const) {
      if (ctx.needsGradient(i)) b.unbroadcast(local(b, ctx, dy, i), outShape, ctx.input(i), ctx.gradInput(i));
    }
    return b.done();
  };
}

export const addGradient = binary((_b, _ctx, dy) => dy);
export const subGradient = binary((b, _ctx, dy, i) => (i === 0 ? dy : b.node('Neg', [dy])));
export const mulGradient = binary((b, ctx, dy, i) => b.node('Mul', [dy, ctx.input(1 - i)]));
/** d(A/B)/dA = 1/B; d(A/B)/dB = -Y/B. */
export const divGradient = binary((b, ctx, dy, i) =>
  i === 0
    ? b.node('Div', [dy, ctx.input(1)])
    : b.node('Neg', [b.node('Div', [b.node('Mul', [dy, ctx.output(0)]), ctx.input(1)])]),
);

/** Unary operators whose gradient is dY times a local derivative. */
function unary(local: (b: Backward, ctx: GradientContext, dy: string, output: string) => void): GradientBuilder {
  return (ctx) => {
    const b = new Backward(ctx);
    const dy = ctx.gradOutput(0);
    if (dy !== undefined && ctx.needsGradient(0)) local(b, ctx, dy, ctx.gradInput(0));
    return b.done();
  };
}

export const negGradient = unary((b, _ctx, dy, out) => b.node('Neg', [dy], {}, out));
export const logGradient = unary((b, ctx, dy, out) => b.node('Div', [dy, ctx.input(0)], {}, out));
export const expGradient = unary((b, ctx, dy, out) => b.node('Mul', [dy, ctx.output(0)], {}, out));
/** Identity, Dropout at inference, Cast between float types. */
export const identityGradient = unary((b, _ctx, dy, out) => b.node('Identity', [dy], {}, out));

export { FLOAT, unary };
