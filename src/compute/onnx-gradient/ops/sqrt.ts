import { unary } from './elementwise.js';

/**
 * Sqrt: dX = dY / (2 Y). Normalisation layers built from primitive nodes (instance norm, batch
 * norm in training mode: src/compute/network/normalization.ts) divide by sqrt(var + eps), and
 * the variance's dependence on the input flows back through here.
 */
export const sqrtGradient = unary((b, ctx, dy, out) =>
  b.node('Div', [dy, b.node('Add', [ctx.output(0), ctx.output(0)])], {}, out),
);
