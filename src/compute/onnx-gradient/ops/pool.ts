import { int, ints } from '../ir.js';
import { isTrivialWindow, resolveWindow, transposeAttributes, type Window } from './geometry.js';
import { attrInt, Backward, badModel, type GradientBuilder, type GradientContext } from './types.js';

function poolGeometry(ctx: GradientContext) {
  const xShape = ctx.shape(ctx.input(0));
  const yShape = ctx.shape(ctx.output(0));
  const spatial = xShape.slice(2);
  if (spatial.some((d) => d < 0) || (xShape[1] as number) < 0) throw badModel(ctx.node, 'only the batch dimension may be dynamic');
  return { xShape, yShape, spatial, pooled: yShape.slice(2), channels: xShape[1] as number, window: resolveWindow(ctx.node, spatial) };
}

/**
 * MaxPool. Non-overlapping windows without padding (the common 2x2/2): X is viewed as
 * [N, C, o1, k1, o2, k2] and compared with Y viewed as [N, C, o1, 1, o2, 1], so the mask and dY
 * are broadcast, never upsampled, and no Indices output or MaxUnpool is needed. Any other window:
 * one strided Slice per kernel offset, compared with Y at the pooled resolution, and the
 * per-offset gradients put back by one depthwise ConvTranspose with one-hot kernels (a col2im that
 * sums overlaps). A tie sends the gradient to every maximum.
 */
export const maxPoolGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined || !ctx.needsGradient(0)) return b.done();
  const g = poolGeometry(ctx);
  if (isTrivialWindow(g.window)) nonOverlapping(b, ctx, dy, g);
  else overlapping(b, ctx, dy, g);
  return b.done();
};

type Geometry = ReturnType<typeof poolGeometry>;

function nonOverlapping(b: Backward, ctx: GradientContext, dy: string, g: Geometry): void {
  const { kernel } = g.window;
  const used = g.pooled.map((o, i) => o * (kernel[i] as number));
  const rank = used.length;
  // ceil_mode's last partial window would read past the end: not this path's shape.
  if (used.some((u, i) => u > (g.spatial[i] as number))) return overlapping(b, ctx, dy, g);
  const cropped = used.some((u, i) => u !== g.spatial[i]);
  const x = cropped ? b.node('Slice', [ctx.input(0), b.int64s(new Array<number>(rank).fill(0)), b.int64s(used), b.int64s(Array.from({ length: rank }, (_, i) => i + 2))]) : ctx.input(0);
  const square = rank === 2 && kernel[0] === kernel[1];
  const routed = square ? squareWindows(b, ctx, x, dy, g) : viewedWindows(b, ctx, x, dy, g, used);
  if (!cropped) {
    b.node('Identity', [routed], {}, ctx.gradInput(0));
    return;
  }
  const pads = [0, 0, ...new Array<number>(rank).fill(0), 0, 0, ...used.map((u, i) => (g.spatial[i] as number) - u)];
  b.node('Pad', [routed, b.int64s(pads)], { mode: { kind: 'string', value: 'constant' } }, ctx.gradInput(0));
}

/**
 * k x k windows: SpaceToDepth puts each window's k^2 elements on a leading axis, [N, k^2, C, o, o],
 * so X is compared with Y (and dY routed) broadcast along that axis in contiguous runs of C o o,
 * and DepthToSpace puts the result back. onnxruntime broadcasts such runs far faster than the
 * interleaved [N, C, o, k, o, k] view (see the README's profile).
 */
function squareWindows(b: Backward, ctx: GradientContext, x: string, dy: string, g: Geometry): string {
  const k = g.window.kernel[0] as number;
  const [oh, ow] = g.pooled as [number, number];
  const windows = b.reshape(b.node('SpaceToDepth', [x], { blocksize: int(k) }), [-1, k * k, g.channels, oh, ow]);
  const routed = b.node('Where', [b.node('Equal', [windows, b.unsqueeze(ctx.output(0), [1])]), b.unsqueeze(dy, [1]), b.floats([], [0])]);
  return b.node('DepthToSpace', [b.reshape(routed, [-1, k * k * g.channels, oh, ow])], { blocksize: int(k), mode: { kind: 'string', value: 'DCR' } });
}

/** Any other non-overlapping window: X viewed as [N, C, o1, k1, o2, k2, ...] against Y as [N, C, o1, 1, o2, 1, ...]. */
function viewedWindows(b: Backward, ctx: GradientContext, x: string, dy: string, g: Geometry, used: readonly number[]): string {
  const { kernel } = g.window;
  const kept = g.pooled.flatMap((o) => [o, 1]);
  const xView = b.reshape(x, [-1, g.channels, ...g.pooled.flatMap((o, i) => [o, kernel[i] as number])]);
  const routed = b.node('Where', [b.node('Equal', [xView, b.reshape(ctx.output(0), [-1, g.channels, ...kept])]), b.reshape(dy, [-1, g.channels, ...kept]), b.floats([], [0])]);
  return b.reshape(routed, [-1, g.channels, ...used]);
}

function overlapping(b: Backward, ctx: GradientContext, dy: string, g: Geometry): void {
  const { window, pooled, spatial, channels } = g;
  const rank = spatial.length;
  const spatialAxes = Array.from({ length: rank }, (_, i) => i + 2);
  const extent = (axis: number) => ((window.kernel[axis] as number) - 1) * (window.dilations[axis] as number) + 1;
  // Pad with the lowest float so a pad never wins, and far enough at the end for ceil_mode.
  const padsEnd = spatial.map((s, i) => Math.max(window.padsEnd[i] as number, ((pooled[i] as number) - 1) * (window.strides[i] as number) + extent(i) - s - (window.padsBegin[i] as number)));
  const padded = b.node('Pad', [ctx.input(0), b.int64s([0, 0, ...window.padsBegin, 0, 0, ...padsEnd]), b.floats([], [-3.4e38])], { mode: { kind: 'string', value: 'constant' } });
  const offsets = kernelOffsets(window.kernel);
  const routed = offsets.map((offset) => {
    const starts = offset.map((k, i) => k * (window.dilations[i] as number));
    const ends = starts.map((s, i) => s + ((pooled[i] as number) - 1) * (window.strides[i] as number) + 1);
    const taken = b.node('Slice', [padded, b.int64s(starts), b.int64s(ends), b.int64s(spatialAxes), b.int64s(window.strides)]);
    return b.unsqueeze(b.node('Where', [b.node('Equal', [taken, ctx.output(0)]), dy, b.floats([], [0])]), [2]);
  });
  const stacked = b.reshape(b.node('Concat', routed, { axis: int(2) }), [-1, channels * offsets.length, ...pooled]);
  // Channel (c, offset) scatters through a kernel that is 1 at that offset only.
  const oneHot = new Array<number>(channels * offsets.length * offsets.length).fill(0);
  for (let c = 0; c < channels; c++) for (let o = 0; o < offsets.length; o++) oneHot[(c * offsets.length + o) * offsets.length + o] = 1;
  const weights = b.floats([channels * offsets.length, 1, ...window.kernel], oneHot);
  scatterBack(b, stacked, weights, channels, window, spatial, pooled, ctx.gradInput(0));
}

function scatterBack(b: Backward, gradient: string, weights: string, channels: number, window: Window, spatial: readonly number[], pooled: readonly number[], output: string): void {
  const t = transposeAttributes(window, spatial, pooled);
  b.node('ConvTranspose', [gradient, weights], { group: int(channels), strides: ints(t.strides), dilations: ints(t.dilations), pads: ints(t.pads), output_padding: ints(t.outputPadding), kernel_shape: ints(window.kernel) }, output);
}

function kernelOffsets(kernel: readonly number[]): number[][] {
  let offsets: number[][] = [[]];
  for (const k of kernel) offsets = offsets.flatMap((prefix) => Array.from({ length: k }, (_, i) => [...prefix, i]));
  return offsets;
}

/**
 * AveragePool: dY divided by each window's element count (which near a border depends on
 * count_include_pad, computed here as onnxruntime counts), spread back over the window by a
 * depthwise ConvTranspose with a kernel of ones.
 */
export const averagePoolGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined || !ctx.needsGradient(0)) return b.done();
  const { window, pooled, spatial, channels } = poolGeometry(ctx);
  if (window.dilations.some((d) => d !== 1)) throw badModel(ctx.node, 'dilated AveragePool is not supported');
  const includePad = attrInt(ctx.node, 'count_include_pad', 0) === 1;
  const perAxis = spatial.map((size, axis) =>
    Array.from({ length: pooled[axis] as number }, (_, o) => {
      const start = o * (window.strides[axis] as number) - (window.padsBegin[axis] as number);
      const end = Math.min(start + (window.kernel[axis] as number), size + (window.padsEnd[axis] as number));
      return includePad ? end - start : Math.min(end, size) - Math.max(start, 0);
    }),
  );
  let inverse: number[] = [1];
  for (const counts of perAxis) inverse = inverse.flatMap((v) => counts.map((c) => v / c));
  const uniform = inverse.every((v) => v === inverse[0]);
  const scale = uniform ? b.floats([], [inverse[0] as number]) : b.floats([...pooled], inverse);
  const scaled = b.node('Mul', [dy, scale]);
  const kernelSize = window.kernel.reduce((a, k) => a * k, 1);
  const ones = b.floats([channels, 1, ...window.kernel], new Array<number>(channels * kernelSize).fill(1));
  scatterBack(b, scaled, ones, channels, window, spatial, pooled, ctx.gradInput(0));
  return b.done();
};

/** GlobalAveragePool: dY / (H W), broadcast back over space by Expand. */
export const globalAveragePoolGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined || !ctx.needsGradient(0)) return b.done();
  const spatial = ctx.shape(ctx.input(0)).slice(2);
  const area = spatial.reduce((a, d) => a * d, 1);
  const scaled = b.node('Mul', [dy, b.floats([], [1 / area])]);
  b.node('Expand', [scaled, b.int64s([1, 1, ...spatial])], {}, ctx.gradInput(0));
  return b.done();
};
