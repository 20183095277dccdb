import { Backward, attrFloat, attrInt, badModel, type GradientBuilder } from './types.js';

/**
 * BatchNormalization in inference mode: Y = scale (X - mean) / sqrt(var + eps) + B, so
 * dX = dY * scale / sqrt(var + eps) per channel (computed from initializers, which onnxruntime
 * folds to a constant when the session loads); d scale and d B sum dY * Xhat and dY over every
 * axis but the channels. The running statistics get no gradient: they are not trained by one.
 */
export const batchNormalizationGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  if (attrInt(ctx.node, 'training_mode', 0) === 1 || ctx.node.outputs.filter((o) => o !== '').length > 1) {
    throw badModel(
      ctx.node,
      'training mode (running statistics as outputs) is not supported; export the model in eval() mode',
    );
  }
  const rank = ctx.shape(ctx.input(0)).length;
  const perChannel = (v: string) => b.reshape(v, [-1, ...new Array<number>(rank - 2).fill(1)]);
  const deviation = b.node('Sqrt', [
    b.node('Add', [ctx.input(4), b.floats([], [attrFloat(ctx.node, 'epsilon', 1e-5)])]),
  ]);
  const otherAxes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
  if (ctx.needsGradient(0))
    b.node('Mul', [dy, perChannel(b.node('Div', [ctx.input(1), deviation]))], {}, ctx.gradInput(0));
  if (ctx.needsGradient(1)) {
    const normalised = b.node('Div', [b.node('Sub', [ctx.input(0), perChannel(ctx.input(3))]), perChannel(deviation)]);
    b.reduceSum(b.node('Mul', [dy, normalised]), otherAxes, false, ctx.gradInput(1));
  }
  if (ctx.needsGradient(2)) b.reduceSum(dy, otherAxes, false, ctx.gradInput(2));
  return b.done();
};
