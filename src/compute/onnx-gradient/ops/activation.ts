import { FLOAT, unary } from './elementwise.js';
import { attrFloat } from './types.js';

/**
 * Relu: dY * Cast(Y > 0). On model C (CPU time, 1 thread) the whole FGSM step ran at 1.13x the
 * speed of dY * Sign(Y) and 1.07x that of Where(Y <= 0, 0, dY) (see the README).
 */
export const reluGradient = unary((b, ctx, dy, out) => {
  b.node('Mul', [dy, b.node('Cast', [b.node('Greater', [ctx.output(0), b.floats([], [0])])], { to: FLOAT })], {}, out);
});

export const leakyReluGradient = unary((b, ctx, dy, out) => {
  const alpha = attrFloat(ctx.node, 'alpha', 0.01);
  const positive = b.node('Greater', [ctx.input(0), b.floats([], [0])]);
  b.node('Where', [positive, dy, b.node('Mul', [dy, b.floats([], [alpha])])], {}, out);
});

/** dY * Y * (1 - Y). */
export const sigmoidGradient = unary((b, ctx, dy, out) => {
  const y = ctx.output(0);
  b.node('Mul', [dy, b.node('Mul', [y, b.node('Sub', [b.floats([], [1]), y])])], {}, out);
});

/** dY * (1 - Y^2). */
export const tanhGradient = unary((b, ctx, dy, out) => {
  const y = ctx.output(0);
  b.node('Mul', [dy, b.node('Sub', [b.floats([], [1]), b.node('Mul', [y, y])])], {}, out);
});

/**
 * Clip: dY where min <= X <= max (PyTorch's convention at the bounds, so ReLU6 passes gradient
 * at exactly 0 and 6 as torch.clamp does).
 */
export const clipGradient = unary((b, ctx, dy, out) => {
  const x = ctx.input(0);
  // Bounds are inputs 1 and 2 from opset 11, attributes min and max before; either may be absent.
  const bound = (index: 1 | 2, attribute: 'min' | 'max') =>
    ctx.input(index) !== ''
      ? ctx.input(index)
      : ctx.node.attributes[attribute]
        ? b.floats([], [attrFloat(ctx.node, attribute, 0)])
        : undefined;
  const lower = bound(1, 'min');
  const upper = bound(2, 'max');
  const inside: string[] = [];
  if (lower !== undefined) inside.push(b.node('Not', [b.node('Less', [x, lower])]));
  if (upper !== undefined) inside.push(b.node('Not', [b.node('Greater', [x, upper])]));
  if (inside.length === 0) {
    b.node('Identity', [dy], {}, out);
    return;
  }
  const mask = inside.length === 2 ? b.node('And', [inside[0] as string, inside[1] as string]) : (inside[0] as string);
  b.node('Mul', [dy, b.node('Cast', [mask], { to: FLOAT })], {}, out);
});
