import { FLOAT, unary } from './elementwise.js';
import { Backward, type GradientBuilder } from './types.js';

/**
 * Pow(X, E) (LayerNorm's variance at opset 13 is Pow(x - mean, 2)): dX = dZ E X^(E-1), and for an exponent
 * on the differentiated path dE = dZ Z ln X. A constant exponent is written out (2: dZ 2X).
 */
export const powGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dz = ctx.gradOutput(0);
  if (dz === undefined) return b.done();
  const outShape = ctx.shape(ctx.output(0));
  const [x, e] = [ctx.input(0), ctx.input(1)];
  if (ctx.needsGradient(0)) {
    const constant = ctx.constant(e);
    let local: string;
    if (constant?.length === 1) {
      const exponent = constant[0] as number;
      local =
        exponent === 2
          ? b.node('Add', [x, x])
          : exponent === 1
            ? b.floats([], [1])
            : b.node('Mul', [b.floats([], [exponent]), b.node('Pow', [x, b.floats([], [exponent - 1])])]);
    } else {
      const exponent = b.node('Cast', [e], { to: FLOAT });
      local = b.node('Mul', [exponent, b.node('Pow', [x, b.node('Sub', [exponent, b.floats([], [1])])])]);
    }
    b.unbroadcast(b.node('Mul', [dz, local]), outShape, x, ctx.gradInput(0));
  }
  if (ctx.needsGradient(1)) {
    const local = b.node('Mul', [ctx.output(0), b.node('Log', [x])]);
    b.unbroadcast(b.node('Mul', [dz, local]), outShape, e, ctx.gradInput(1));
  }
  return b.done();
};

/** Abs: dX = dY sign(X) (0 at 0, as torch). */
export const absGradient = unary((b, ctx, dy, out) => b.node('Mul', [dy, b.node('Sign', [ctx.input(0)])], {}, out));

/**
 * Sum and Mean of any number of inputs (numpy broadcasting): each input gets dY (over n for Mean), summed to its
 * shape.
 */
function variadic(mean: boolean): GradientBuilder {
  return (ctx) => {
    const b = new Backward(ctx);
    const dy = ctx.gradOutput(0);
    if (dy === undefined) return b.done();
    const n = ctx.node.inputs.length;
    const share = mean && n > 1 ? b.node('Mul', [dy, b.floats([], [1 / n])]) : dy;
    const outShape = ctx.shape(ctx.output(0));
    ctx.node.inputs.forEach((input, i) => {
      if (ctx.needsGradient(i)) b.unbroadcast(share, outShape, input, ctx.gradInput(i));
    });
    return b.done();
  };
}
export const sumGradient = variadic(false);
export const meanGradient = variadic(true);

/**
 * Max and Min of any number of inputs: dY goes to the first input equal to the result (ties to the
 * earlier input, as Carlini-Wagner's clamp max(m, -kappa) gives its gradient to m), summed to its shape.
 */
const extremum: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  const y = ctx.output(0);
  const outShape = ctx.shape(y);
  let taken: string | undefined;
  ctx.node.inputs.forEach((input, i) => {
    const equal = b.node('Equal', [input, y]);
    const wins = taken === undefined ? equal : b.node('And', [equal, b.node('Not', [taken])]);
    if (ctx.needsGradient(i))
      b.unbroadcast(b.node('Mul', [dy, b.node('Cast', [wins], { to: FLOAT })]), outShape, input, ctx.gradInput(i));
    if (i < ctx.node.inputs.length - 1) taken = taken === undefined ? equal : b.node('Or', [taken, equal]);
  });
  return b.done();
};
export const maxGradient = extremum;
export const minGradient = extremum;
