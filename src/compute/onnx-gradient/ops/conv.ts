import { int, ints } from '../ir.js';
import { resolveWindow, transposeAttributes } from './geometry.js';
import { attrInt, Backward, badModel, type GradientBuilder } from './types.js';

/**
 * Conv: d/dX is one ConvTranspose of dY with the same weights, strides, dilations and groups
 * (onnxruntime runs it as a GEMM plus col2im, like Conv itself); d/dW correlates X with dY
 * (strides and dilations swap roles) per group; d/dB sums dY over batch and space.
 */
export const convGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const x = ctx.input(0);
  const w = ctx.input(1);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  const xShape = ctx.shape(x);
  const wShape = ctx.shape(w);
  const yShape = ctx.shape(ctx.output(0));
  const spatial = xShape.slice(2);
  if (spatial.some((d) => d < 0)) throw badModel(ctx.node, 'its spatial size changes with the batch; only the batch dimension may be dynamic');
  const group = attrInt(ctx.node, 'group', 1);
  const window = resolveWindow(ctx.node, spatial, wShape.slice(2));
  const t = transposeAttributes(window, spatial, yShape.slice(2));
  if (ctx.needsGradient(0)) {
    b.node('ConvTranspose', [dy, w], { group: int(group), strides: ints(t.strides), dilations: ints(t.dilations), pads: ints(t.pads), output_padding: ints(t.outputPadding), kernel_shape: ints(window.kernel) }, ctx.gradInput(0));
  }
  if (ctx.needsGradient(1)) weightGradient(b, ctx.gradInput(1), { x, dy, xShape, wShape, group, window });
  if (ctx.input(2) !== '' && ctx.needsGradient(2)) {
    b.reduceSum(dy, [0, ...spatial.map((_, i) => i + 2)], false, ctx.gradInput(2));
  }
  return b.done();
};

interface WeightGradientInput {
  x: string;
  dy: string;
  xShape: readonly number[];
  wShape: readonly number[];
  group: number;
  window: ReturnType<typeof resolveWindow>;
}

/**
 * dW[m, c, k] = sum_n sum_o dY[n, m, o] X[n, c, o * stride + k * dilation - pad]: a Conv of X
 * (channels as batch, batch as channels) with dY as the kernel, dilated by the forward stride
 * and strided by the forward dilation, then cropped to the kernel. Groups: the input channels of
 * group g pair with its output channels, done as one grouped Conv over X's channels.
 */
function weightGradient(b: Backward, output: string, input: WeightGradientInput): void {
  const { x, dy, xShape, group, window } = input;
  const rank = xShape.length - 2;
  const perm = [1, 0, ...Array.from({ length: rank }, (_, i) => i + 2)];
  const channels = xShape[1] as number;
  const inPerGroup = channels / group;
  const paddedSpatial = xShape.slice(2).map((d, i) => d + (window.padsBegin[i] as number) + (window.padsEnd[i] as number));
  // X as [C, N, ...]: each input channel a "batch" row; dY as kernels [M, N, ...].
  const xT = b.node('Transpose', [x], { perm: ints(perm) });
  const dyT = b.node('Transpose', [dy], { perm: ints(perm) });
  const padded = b.node('Pad', [xT, b.int64s([0, 0, ...window.padsBegin, 0, 0, ...window.padsEnd])], { mode: { kind: 'string', value: 'constant' } });
  let correlated: string;
  if (group === 1) {
    // [C, M, ...k'] where k' >= kernel (floor-mode leftovers): crop below.
    correlated = b.node('Conv', [padded, dyT], { strides: ints(window.dilations), dilations: ints(window.strides) });
  } else {
    // Per group: channels c in group g against kernels m in group g. Stack the groups along the
    // batch axis: X [C, N, ...] -> [g, C/g, N, ...] -> [C/g, g*N, ...]; dY [M, N, ...] as kernels
    // with group = g: the Conv of [C/g, g*N] with [M, N] in g groups gives [C/g, M, ...].
    const xs = b.reshape(padded, [group, inPerGroup, -1, ...paddedSpatial]);
    const swapped = b.node('Transpose', [xs], { perm: ints([1, 0, 2, ...Array.from({ length: rank }, (_, i) => i + 3)]) });
    const merged = b.reshape(swapped, [inPerGroup, -1, ...paddedSpatial]);
    correlated = b.node('Conv', [merged, dyT], { strides: ints(window.dilations), dilations: ints(window.strides), group: int(group) });
  }
  const cropped = b.node('Slice', [correlated, b.int64s(new Array<number>(rank).fill(0)), b.int64s([...window.kernel]), b.int64s(Array.from({ length: rank }, (_, i) => i + 2))]);
  b.node('Transpose', [cropped], { perm: ints(perm) }, output);
}
