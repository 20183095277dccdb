import { Backward, attrFloat, attrInt, badModel, type GradientBuilder, type GradientContext } from './types.js';

/**
 * The normalisation of x over `axes` with its own statistics, x^ = (x - mean) / sqrt(var + eps), and its
 * backward for dx^ = g: dx = (g - mean(g) - x^ mean(g x^)) / sqrt(var + eps) (the biased variance, as every
 * framework's instance and group norms). Returns x^ too, for the gradients of scale.
 */
export function normalisedBackward(b: Backward, x: string, g: string, axes: readonly number[], epsilon: number) {
  const mean = (v: string) => b.reduce('ReduceMean', v, axes, true);
  const centred = b.node('Sub', [x, mean(x)]);
  const deviation = b.node('Sqrt', [b.node('Add', [mean(b.node('Mul', [centred, centred])), b.floats([], [epsilon])])]);
  const normalised = b.node('Div', [centred, deviation]);
  const projected = b.node('Mul', [normalised, mean(b.node('Mul', [g, normalised]))]);
  const dx = b.node('Div', [b.node('Sub', [b.node('Sub', [g, mean(g)]), projected]), deviation]);
  return { dx, normalised };
}

function rankOf(ctx: GradientContext): number {
  const shape = ctx.shape(ctx.input(0));
  if (shape.slice(1).some((d) => d < 0)) throw badModel(ctx.node, 'only the batch dimension may be dynamic');
  return shape.length;
}

/**
 * InstanceNormalization, y = scale[c] x^ + B[c] with x^ normalised over the spatial axes of each image and
 * channel: dx from g = dY scale; d scale and d B sum dY x^ and dY over the batch and spatial axes.
 */
export const instanceNormalizationGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  const rank = rankOf(ctx);
  const perChannel = (v: string) => b.reshape(v, [-1, ...new Array<number>(rank - 2).fill(1)]);
  const spatial = Array.from({ length: rank - 2 }, (_, i) => i + 2);
  const g = b.node('Mul', [dy, perChannel(ctx.input(1))]);
  const { dx, normalised } = normalisedBackward(b, ctx.input(0), g, spatial, attrFloat(ctx.node, 'epsilon', 1e-5));
  if (ctx.needsGradient(0)) b.node('Identity', [dx], {}, ctx.gradInput(0));
  if (ctx.needsGradient(1)) b.reduceSum(b.node('Mul', [dy, normalised]), [0, ...spatial], false, ctx.gradInput(1));
  if (ctx.needsGradient(2)) b.reduceSum(dy, [0, ...spatial], false, ctx.gradInput(2));
  return b.done();
};

/**
 * GroupNormalization (opset 18; 1803.08494): the channels split into num_groups groups, each image's group
 * normalised as one, then y = scale[group] x^ + bias[group] (opset 18 gives scale and bias one value per
 * group; opset 21 moved them to channels, beyond the supported opsets).
 */
export const groupNormalizationGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  rankOf(ctx);
  const xShape = ctx.shape(ctx.input(0));
  const groups = attrInt(ctx.node, 'num_groups', 0);
  const channels = xShape[1] as number;
  if (!(groups >= 1 && channels % groups === 0))
    throw badModel(ctx.node, `num_groups ${groups} does not divide the ${channels} channels`);
  // 0 keeps the batch dimension as it is.
  const grouped = (v: string) => b.reshape(v, [0, groups, -1]);
  const perGroup = (v: string) => b.reshape(v, [1, groups, 1]);
  const g = b.node('Mul', [grouped(dy), perGroup(ctx.input(1))]);
  const x = grouped(ctx.input(0));
  const { dx, normalised } = normalisedBackward(b, x, g, [2], attrFloat(ctx.node, 'epsilon', 1e-5));
  if (ctx.needsGradient(0)) b.reshapeLike(dx, ctx.input(0), ctx.gradInput(0));
  if (ctx.needsGradient(1)) b.reduceSum(b.node('Mul', [grouped(dy), normalised]), [0, 2], false, ctx.gradInput(1));
  if (ctx.needsGradient(2)) b.reduceSum(grouped(dy), [0, 2], false, ctx.gradInput(2));
  return b.done();
};
