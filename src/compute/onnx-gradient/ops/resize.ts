import { attrInt, attrString, Backward, badModel, type GradientBuilder, type GradientContext } from './types.js';

/**
 * Resize with nearest or linear interpolation of the two spatial axes of an NCHW tensor is y = A_h x A_w^T
 * per image and channel, A an out x in interpolation matrix fixed by the sizes and the attributes; so
 * dX = A_h^T dY A_w: two MatMuls with constant matrices (built here as onnxruntime's Upsample computes its
 * source coordinates: clamped into the input for linear, rounded and clamped for nearest).
 */
export const resizeGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined || !ctx.needsGradient(0)) return b.done();
  const xShape = ctx.shape(ctx.input(0));
  const yShape = ctx.shape(ctx.output(0));
  if (xShape.length !== 4 || xShape[1] !== yShape[1] || xShape.slice(1).some((d) => d < 0))
    throw badModel(ctx.node, 'only the two spatial axes of a 4-D input with a static shape may be resized');
  const mode = attrString(ctx.node, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear')
    throw badModel(ctx.node, `mode ${mode} is not supported; only nearest and linear`);
  if (attrInt(ctx.node, 'antialias', 0) !== 0) throw badModel(ctx.node, 'antialias is not supported');
  const scales = scalesOf(ctx, xShape, yShape);
  const [rows, cols] = [2, 3].map((axis) =>
    interpolation(ctx, mode, xShape[axis] as number, yShape[axis] as number, scales[axis] as number),
  ) as [Matrix, Matrix];
  // dY [N, C, Ho, Wo] A_w [Wo, Wi] -> [N, C, Ho, Wi]; A_h^T [Hi, Ho] times that -> [N, C, Hi, Wi].
  const alongWidth = b.node('MatMul', [dy, b.floats([cols.out, cols.in], Array.from(cols.values))]);
  b.node('MatMul', [b.floats([rows.in, rows.out], Array.from(transpose(rows))), alongWidth], {}, ctx.gradInput(0));
  return b.done();
};

interface Matrix {
  readonly out: number;
  readonly in: number;
  /** out x in, row-major. */
  readonly values: Float64Array;
}

function transpose(m: Matrix): Float64Array {
  const t = new Float64Array(m.in * m.out);
  for (let o = 0; o < m.out; o++) for (let i = 0; i < m.in; i++) t[i * m.out + o] = m.values[o * m.in + i] as number;
  return t;
}

/** Per-axis scale: the `scales` input when given, else output / input size (ONNX's definition). */
function scalesOf(ctx: GradientContext, xShape: readonly number[], yShape: readonly number[]): number[] {
  const scalesInput = ctx.input(2);
  const given = scalesInput !== '' ? ctx.constant(scalesInput) : undefined;
  if (scalesInput !== '' && given === undefined && ctx.shape(scalesInput).some((d) => d !== 0))
    throw badModel(
      ctx.node,
      `its scales (${scalesInput}) are computed at run time; only constant scales are supported`,
    );
  if (given !== undefined && given.length === 4) {
    if (given[0] !== 1 || given[1] !== 1) throw badModel(ctx.node, 'only the spatial axes may be scaled');
    return given;
  }
  return yShape.map((d, i) => d / (xShape[i] as number));
}

function interpolation(ctx: GradientContext, mode: string, size: number, out: number, scale: number): Matrix {
  const transform = attrString(ctx.node, 'coordinate_transformation_mode', 'half_pixel');
  const source = (o: number): number => {
    switch (transform) {
      case 'half_pixel':
        return (o + 0.5) / scale - 0.5;
      case 'pytorch_half_pixel':
        return out > 1 ? (o + 0.5) / scale - 0.5 : 0;
      case 'align_corners':
        return out > 1 ? (o * (size - 1)) / (out - 1) : 0;
      case 'asymmetric':
        return o / scale;
      default:
        throw badModel(ctx.node, `coordinate_transformation_mode ${transform} is not supported`);
    }
  };
  const values = new Float64Array(out * size);
  const clampIndex = (i: number) => Math.min(Math.max(i, 0), size - 1);
  const nearest = attrString(ctx.node, 'nearest_mode', 'round_prefer_floor');
  for (let o = 0; o < out; o++) {
    const x = source(o);
    if (mode === 'nearest') {
      values[o * size + clampIndex(roundNearest(ctx, nearest, x, scale))] = 1;
      continue;
    }
    const clamped = Math.min(Math.max(x, 0), size - 1);
    const low = Math.floor(clamped);
    const high = Math.min(low + 1, size - 1);
    const weight = clamped - low;
    values[o * size + low] = (values[o * size + low] as number) + 1 - weight;
    values[o * size + high] = (values[o * size + high] as number) + weight;
  }
  return { out, in: size, values };
}

function roundNearest(ctx: GradientContext, mode: string, x: number, scale: number): number {
  switch (mode) {
    case 'round_prefer_floor':
      return x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x);
    case 'round_prefer_ceil':
      return Math.round(x);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    default:
      throw badModel(ctx.node, `nearest_mode ${mode} (scale ${scale}) is not supported`);
  }
}
