import { attrInt, attrString, Backward, badModel, type GradientBuilder, type GradientContext } from './types.js';

/**
 * DepthToSpace and SpaceToDepth are a Reshape, a Transpose and a Reshape (the ONNX definitions); the gradient
 * runs the three backwards: dY reshaped to the transposed shape, the inverse permutation, the input's shape.
 */
function rearrangement(layout: (ctx: GradientContext, n: readonly number[], b: number) => Layout): GradientBuilder {
  return (ctx) => {
    const backward = new Backward(ctx);
    const dy = ctx.gradOutput(0);
    if (dy === undefined || !ctx.needsGradient(0)) return backward.done();
    const shape = ctx.shape(ctx.input(0));
    if (shape.length !== 4 || shape.slice(1).some((d) => d < 0))
      throw badModel(ctx.node, 'only a 4-D input with a static shape besides the batch is supported');
    const block = attrInt(ctx.node, 'blocksize', 0);
    if (!(block >= 1)) throw badModel(ctx.node, `blocksize must be >= 1 (got ${block})`);
    const { split, perm } = layout(ctx, shape, block);
    const transposed = perm.map((p) => split[p] as number);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    const unshuffled = backward.node('Transpose', [backward.reshape(dy, [-1, ...transposed.slice(1)])], {
      perm: { kind: 'ints', value: inverse },
    });
    backward.reshape(backward.reshape(unshuffled, [-1, ...split.slice(1)]), [-1, ...shape.slice(1)], ctx.gradInput(0));
    return backward.done();
  };
}

interface Layout {
  /** The input's shape after the first Reshape. */
  readonly split: readonly number[];
  /** The Transpose's permutation. */
  readonly perm: readonly number[];
}

export const depthToSpaceGradient = rearrangement((ctx, [n, c, h, w], b) => {
  const depth = (c as number) / (b * b);
  const mode = attrString(ctx.node, 'mode', 'DCR');
  if (mode === 'DCR') return { split: [n as number, b, b, depth, h as number, w as number], perm: [0, 3, 4, 1, 5, 2] };
  if (mode === 'CRD') return { split: [n as number, depth, b, b, h as number, w as number], perm: [0, 1, 4, 2, 5, 3] };
  throw badModel(ctx.node, `mode ${mode} is not DCR or CRD`);
});

export const spaceToDepthGradient = rearrangement((_ctx, [n, c, h, w], b) => ({
  split: [n as number, c as number, (h as number) / b, b, (w as number) / b, b],
  perm: [0, 3, 5, 1, 2, 4],
}));
