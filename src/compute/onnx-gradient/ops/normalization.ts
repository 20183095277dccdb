import { unary } from './elementwise.js';
import { attrFloat, attrInt, badModel } from './types.js';

/**
 * BatchNormalization in inference mode: Y = scale (X - mean) / sqrt(var + eps) + B, so
 * dX = dY * scale / sqrt(var + eps) per channel. The factor is computed from initializers, and
 * onnxruntime folds it to a constant when the session loads.
 */
export const batchNormalizationGradient = unary((b, ctx, dy, out) => {
  if (attrInt(ctx.node, 'training_mode', 0) === 1 || ctx.node.outputs.filter((o) => o !== '').length > 1) {
    throw badModel(ctx.node, 'training mode (running statistics as outputs) is not supported; export the model in eval() mode');
  }
  const rank = ctx.shape(ctx.input(0)).length;
  const epsilon = attrFloat(ctx.node, 'epsilon', 1e-5);
  const deviation = b.node('Sqrt', [b.node('Add', [ctx.input(4), b.floats([], [epsilon])])]);
  const factor = b.reshape(b.node('Div', [ctx.input(1), deviation]), [-1, ...new Array<number>(rank - 2).fill(1)]);
  b.node('Mul', [dy, factor], {}, out);
});
