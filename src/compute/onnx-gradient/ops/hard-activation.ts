import { FLOAT, unary } from './elementwise.js';
import { attrFloat } from './types.js';

/**
 * HardSigmoid, y = max(0, min(1, alpha x + beta)): dY * alpha strictly inside the linear part, as
 * PyTorch's hardsigmoid_backward (0 at the kinks).
 */
export const hardSigmoidGradient = unary((b, ctx, dy, out) => {
  const alpha = attrFloat(ctx.node, 'alpha', 0.2);
  const beta = attrFloat(ctx.node, 'beta', 0.5);
  const t = b.node('Add', [b.node('Mul', [ctx.input(0), b.floats([], [alpha])]), b.floats([], [beta])]);
  const inside = b.node('And', [b.node('Greater', [t, b.floats([], [0])]), b.node('Less', [t, b.floats([], [1])])]);
  b.node('Mul', [dy, b.node('Mul', [b.node('Cast', [inside], { to: FLOAT }), b.floats([], [alpha])])], {}, out);
});

/**
 * HardSwish, y = x HardSigmoid(x) with alpha 1/6 and beta 1/2 (MobileNet-V3, 1905.02244): the local
 * derivative is 0 below -3, x / 3 + 1/2 up to 3 and 1 above, PyTorch's hardswish_backward.
 */
export const hardSwishGradient = unary((b, ctx, dy, out) => {
  const x = ctx.input(0);
  const ramp = b.node('Add', [b.node('Mul', [x, b.floats([], [1 / 3])]), b.floats([], [0.5])]);
  const belowTop = b.node('Where', [b.node('Greater', [x, b.floats([], [3])]), b.floats([], [1]), ramp]);
  const local = b.node('Where', [b.node('Less', [x, b.floats([], [-3])]), b.floats([], [0]), belowTop]);
  b.node('Mul', [dy, local], {}, out);
});
