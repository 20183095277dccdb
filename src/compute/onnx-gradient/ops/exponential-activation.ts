import { unary } from './elementwise.js';
import { attrFloat } from './types.js';

/** Softplus, y = log(1 + e^x): dY * sigmoid(x). */
export const softplusGradient = unary((b, ctx, dy, out) => {
  b.node('Mul', [dy, b.node('Sigmoid', [ctx.input(0)])], {}, out);
});

/**
 * Mish, y = x tanh(softplus(x)) (1908.08681; opset 18): tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2), with sp and
 * its tanh recomputed (Mish is one forward node).
 */
export const mishGradient = unary((b, ctx, dy, out) => {
  const x = ctx.input(0);
  const t = b.node('Tanh', [b.node('Softplus', [x])]);
  const slope = b.node('Mul', [
    b.node('Mul', [x, b.node('Sigmoid', [x])]),
    b.node('Sub', [b.floats([], [1]), b.node('Mul', [t, t])]),
  ]);
  b.node('Mul', [dy, b.node('Add', [t, slope])], {}, out);
});

/** Elu, y = x for x > 0 else alpha (e^x - 1): dY there, dY (y + alpha) elsewhere (PyTorch's elu_backward). */
export const eluGradient = unary((b, ctx, dy, out) => {
  const alpha = attrFloat(ctx.node, 'alpha', 1);
  const negative = b.node('Mul', [dy, b.node('Add', [ctx.output(0), b.floats([], [alpha])])]);
  b.node('Where', [b.node('Greater', [ctx.input(0), b.floats([], [0])]), dy, negative], {}, out);
});

/**
 * Selu (1706.02515), y = gamma x for x > 0 else gamma alpha (e^x - 1): dY gamma there, dY (y + gamma alpha)
 * elsewhere. The defaults are ONNX's: the float32 roundings of the paper's constants.
 */
export const seluGradient = unary((b, ctx, dy, out) => {
  const alpha = attrFloat(ctx.node, 'alpha', Math.fround(1.6732632423543772));
  const gamma = attrFloat(ctx.node, 'gamma', Math.fround(1.0507009873554805));
  const positive = b.node('Mul', [dy, b.floats([], [gamma])]);
  const negative = b.node('Mul', [dy, b.node('Add', [ctx.output(0), b.floats([], [gamma * alpha])])]);
  b.node('Where', [b.node('Greater', [ctx.input(0), b.floats([], [0])]), positive, negative], {}, out);
});
