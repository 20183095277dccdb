import { normalisedBackward } from './group-normalization.js';
import { Backward, attrFloat, attrInt, badModel, normalizeAxis, type GradientBuilder } from './types.js';

/**
 * LayerNormalization (opset 17; 1607.06450): x^ normalised over the axes from `axis` (default -1) on,
 * y = scale x^ + B with scale and B broadcast over the leading axes. dx from g = dY scale (the same
 * backward as instance and group norms); d scale and d B sum dY x^ and dY over the leading axes.
 * torch.onnx writes it at opset 17; at 13 it decomposes into ReduceMean, Sub, Pow, Sqrt and Div.
 */
export const layerNormalizationGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  if (ctx.gradOutput(1) !== undefined || ctx.gradOutput(2) !== undefined)
    throw badModel(ctx.node, 'a gradient through its Mean or InvStdDev outputs is not supported');
  const xShape = ctx.shape(ctx.input(0));
  const rank = xShape.length;
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', -1), rank);
  const normalised = Array.from({ length: rank - axis }, (_, i) => axis + i);
  if (normalised.some((a) => (xShape[a] as number) < 0))
    throw badModel(ctx.node, 'normalising over the batch axis is not supported');
  const leading = Array.from({ length: axis }, (_, i) => i);
  const g = b.node('Mul', [dy, ctx.input(1)]);
  const epsilon = attrFloat(ctx.node, 'epsilon', 1e-5);
  const { dx, normalised: xHat } = normalisedBackward(b, ctx.input(0), g, normalised, epsilon);
  if (ctx.needsGradient(0)) b.node('Identity', [dx], {}, ctx.gradInput(0));
  const toParameter = (v: string, i: number) =>
    leading.length === 0
      ? b.node('Identity', [v], {}, ctx.gradInput(i))
      : b.reshapeLike(b.reduceSum(v, leading, false), ctx.input(i), ctx.gradInput(i));
  if (ctx.needsGradient(1)) toParameter(b.node('Mul', [dy, xHat]), 1);
  if (ctx.input(2) !== '' && ctx.needsGradient(2)) toParameter(dy, 2);
  return b.done();
};
