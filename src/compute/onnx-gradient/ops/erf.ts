import { unary } from './elementwise.js';
import { attrString, badModel } from './types.js';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const ONE_OVER_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Erf (torch.onnx's exact GELU at opsets before 20, x/2 (1 + erf(x / sqrt 2))): d erf(x) = 2/sqrt(pi) e^(-x^2). */
export const erfGradient = unary((b, ctx, dy, out) => {
  const x = ctx.input(0);
  const density = b.node('Exp', [b.node('Neg', [b.node('Mul', [x, x])])]);
  b.node('Mul', [dy, b.node('Mul', [density, b.floats([], [TWO_OVER_SQRT_PI])])], {}, out);
});

/**
 * Gelu (opset 20; Hendrycks and Gimpel 1606.08415). Exact: y = x Phi(x), y' = Phi(x) + x phi(x).
 * approximate 'tanh': y = x/2 (1 + t), t = tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3), so
 * y' = (1 + t)/2 + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2).
 */
export const geluGradient = unary((b, ctx, dy, out) => {
  const x = ctx.input(0);
  const approximate = attrString(ctx.node, 'approximate', 'none');
  const c = (v: number) => b.floats([], [v]);
  const square = b.node('Mul', [x, x]);
  let local: string;
  if (approximate === 'none') {
    const cdf = b.node('Mul', [c(0.5), b.node('Add', [c(1), b.node('Erf', [b.node('Mul', [x, c(Math.SQRT1_2)])])])]);
    const pdf = b.node('Mul', [c(ONE_OVER_SQRT_2PI), b.node('Exp', [b.node('Mul', [square, c(-0.5)])])]);
    local = b.node('Add', [cdf, b.node('Mul', [x, pdf])]);
  } else if (approximate === 'tanh') {
    const cubic = b.node('Mul', [x, b.node('Add', [c(1), b.node('Mul', [square, c(0.044715)])])]);
    const t = b.node('Tanh', [b.node('Mul', [cubic, c(SQRT_2_OVER_PI)])]);
    const slope = b.node('Mul', [c(SQRT_2_OVER_PI), b.node('Add', [c(1), b.node('Mul', [square, c(3 * 0.044715)])])]);
    const sech2 = b.node('Sub', [c(1), b.node('Mul', [t, t])]);
    const half = b.node('Mul', [c(0.5), b.node('Add', [c(1), t])]);
    local = b.node('Add', [half, b.node('Mul', [b.node('Mul', [c(0.5), x]), b.node('Mul', [sech2, slope])])]);
  } else {
    throw badModel(ctx.node, `approximate ${approximate} is not supported; only none and tanh`);
  }
  b.node('Mul', [dy, local], {}, out);
});
