import { int, ints, str } from '../ir.js';
import { kernelOffsets, resolveWindow, transposeAttributes, type Window } from './geometry.js';
import { attrInt, Backward, badModel, type GradientBuilder, type GradientContext } from './types.js';

function poolGeometry(ctx: GradientContext) {
  const xShape = ctx.shape(ctx.input(0));
  const yShape = ctx.shape(ctx.output(0));
  const spatial = xShape.slice(2);
  if (spatial.some((d) => d < 0) || (xShape[1] as number) < 0)
    throw badModel(ctx.node, 'only the batch dimension may be dynamic');
  return {
    xShape,
    yShape,
    spatial,
    pooled: yShape.slice(2),
    channels: xShape[1] as number,
    window: resolveWindow(ctx.node, spatial),
  };
}

/**
 * MaxPool: one strided Slice of X per kernel offset, compared with Y at the pooled resolution,
 * and the per-offset gradients put back by one depthwise ConvTranspose with one-hot kernels (a
 * col2im that sums overlaps). A tie sends the gradient to the first maximum of its window in
 * row-major order, as PyTorch, TensorFlow and onnxruntime's Indices do: on real digits flat
 * backgrounds tie in about a third of the first layer's windows, and sending dY to every maximum
 * (an earlier, faster path that upsampled Y by Resize) made input gradients 60-90% off PyTorch's.
 */
export const maxPoolGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined || !ctx.needsGradient(0)) return b.done();
  const geometry = poolGeometry(ctx);
  if (ctx.output(1) !== '' && !windowsOverlap(geometry.window)) {
    // The forward node's Indices name each window's first maximum: one MaxUnpool writes dY there.
    const { window } = geometry;
    const attributes = {
      kernel_shape: ints(window.kernel),
      strides: ints(window.strides),
      pads: ints([...window.padsBegin, ...window.padsEnd]),
    };
    b.node('MaxUnpool', [dy, ctx.output(1), b.node('Shape', [ctx.input(0)])], attributes, ctx.gradInput(0));
    return b.done();
  }
  overlapping(b, ctx, dy, geometry);
  return b.done();
};

/** Whether two windows can share an element (then MaxUnpool, which writes rather than adds, would lose one). */
export function windowsOverlap(window: Window): boolean {
  return window.kernel.some((k, i) => (k - 1) * (window.dilations[i] as number) + 1 > (window.strides[i] as number));
}

type Geometry = ReturnType<typeof poolGeometry>;

function overlapping(b: Backward, ctx: GradientContext, dy: string, g: Geometry): void {
  const { window, pooled, spatial, channels } = g;
  const rank = spatial.length;
  const spatialAxes = Array.from({ length: rank }, (_, i) => i + 2);
  const extent = (axis: number) => ((window.kernel[axis] as number) - 1) * (window.dilations[axis] as number) + 1;
  // Pad with the lowest float so a pad never wins, and far enough at the end for ceil_mode.
  const padsEnd = spatial.map((s, i) =>
    Math.max(
      window.padsEnd[i] as number,
      ((pooled[i] as number) - 1) * (window.strides[i] as number) + extent(i) - s - (window.padsBegin[i] as number),
    ),
  );
  const padded = b.node(
    'Pad',
    [ctx.input(0), b.int64s([0, 0, ...window.padsBegin, 0, 0, ...padsEnd]), b.floats([], [-3.4e38])],
    { mode: str('constant') },
  );
  const offsets = kernelOffsets(window.kernel);
  // Offsets come in row-major order; `seen` marks windows whose maximum an earlier offset took.
  let seen: string | undefined;
  const routed = offsets.map((offset) => {
    const starts = offset.map((k, i) => k * (window.dilations[i] as number));
    const ends = starts.map((s, i) => s + ((pooled[i] as number) - 1) * (window.strides[i] as number) + 1);
    const taken = b.node('Slice', [
      padded,
      b.int64s(starts),
      b.int64s(ends),
      b.int64s(spatialAxes),
      b.int64s(window.strides),
    ]);
    const equal = b.node('Equal', [taken, ctx.output(0)]);
    const first = seen === undefined ? equal : b.node('And', [equal, b.node('Not', [seen])]);
    seen = seen === undefined ? equal : b.node('Or', [seen, equal]);
    return b.unsqueeze(b.node('Where', [first, dy, b.floats([], [0])]), [2]);
  });
  const stacked = b.reshape(b.node('Concat', routed, { axis: int(2) }), [-1, channels * offsets.length, ...pooled]);
  // Channel (c, offset) scatters through a kernel that is 1 at that offset only.
  const oneHot = new Array<number>(channels * offsets.length * offsets.length).fill(0);
  for (let c = 0; c < channels; c++)
    for (let o = 0; o < offsets.length; o++) oneHot[(c * offsets.length + o) * offsets.length + o] = 1;
  const weights = b.floats([channels * offsets.length, 1, ...window.kernel], oneHot);
  scatterBack(b, stacked, weights, channels, window, spatial, pooled, ctx.gradInput(0));
}

function scatterBack(
  b: Backward,
  gradient: string,
  weights: string,
  channels: number,
  window: Window,
  spatial: readonly number[],
  pooled: readonly number[],
  output: string,
): void {
  const t = transposeAttributes(window, spatial, pooled);
  b.node(
    'ConvTranspose',
    [gradient, weights],
    {
      group: int(channels),
      strides: ints(t.strides),
      dilations: ints(t.dilations),
      pads: ints(t.pads),
      output_padding: ints(t.outputPadding),
      kernel_shape: ints(window.kernel),
    },
    output,
  );
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

/**
 * GlobalMaxPool: dY to the first maximum of each image's channel in row-major order (ArgMax's first index,
 * the tie rule of MaxPool above and of PyTorch's adaptive_max_pool2d).
 */
export const globalMaxPoolGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined || !ctx.needsGradient(0)) return b.done();
  const shape = ctx.shape(ctx.input(0));
  if (shape.slice(1).some((d) => d < 0)) throw badModel(ctx.node, 'only the batch dimension may be dynamic');
  const area = shape.slice(2).reduce((a, d) => a * d, 1);
  const flat = b.reshape(ctx.input(0), [0, shape[1] as number, area]);
  const first = b.node('ArgMax', [flat], { axis: int(2), keepdims: int(1) });
  const positions = b.int64s(Array.from({ length: area }, (_, i) => i));
  const chosen = b.node('Cast', [b.node('Equal', [first, positions])], { to: int(1) });
  const routed = b.node('Mul', [chosen, b.reshape(dy, [0, shape[1] as number, 1])]);
  b.reshapeLike(routed, ctx.input(0), ctx.gradInput(0));
  return b.done();
};
