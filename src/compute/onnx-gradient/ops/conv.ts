import { int, ints, str } from '../ir.js';
import { kernelOffsets, resolveWindow, transposeAttributes } from './geometry.js';
import { attrInt, Backward, badModel, type GradientBuilder } from './types.js';

/**
 * Conv: d/dX is, at unit strides and for constant weights, a Conv of dY with the weights flipped in space and their
 * in- and output channels swapped (inputGradientAsConv), else one ConvTranspose of dY with the same weights,
 * strides, dilations and groups; d/dW correlates X with dY (strides and dilations swap roles) per group; d/dB sums
 * dY over batch and space.
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
  if (spatial.some((d) => d < 0))
    throw badModel(ctx.node, 'its spatial size changes with the batch; only the batch dimension may be dynamic');
  const group = attrInt(ctx.node, 'group', 1);
  const window = resolveWindow(ctx.node, spatial, wShape.slice(2));
  const t = transposeAttributes(window, spatial, yShape.slice(2));
  if (ctx.needsGradient(0)) {
    // A graph that trains W (onnx-train, whose own NCHWc pass blocks its Convs) keeps the ConvTranspose.
    const asConv = !ctx.needsGradient(1) && inputGradientAsConv(b, ctx.gradInput(0), { dy, w, wShape, group, window });
    if (!asConv) {
      b.node(
        'ConvTranspose',
        [dy, w],
        {
          group: int(group),
          strides: ints(t.strides),
          dilations: ints(t.dilations),
          pads: ints(t.pads),
          output_padding: ints(t.outputPadding),
          kernel_shape: ints(window.kernel),
        },
        ctx.gradInput(0),
      );
    }
  }
  if (ctx.needsGradient(1)) weightGradient(b, ctx.gradInput(1), { x, dy, xShape, wShape, yShape, group, window });
  if (ctx.input(2) !== '' && ctx.needsGradient(2)) {
    b.reduceSum(dy, [0, ...spatial.map((_, i) => i + 2)], false, ctx.gradInput(2));
  }
  return b.done();
};

/**
 * Below this many input channels (model C's and ResNet-18's first layers: 1 and 3) the input gradient stays a
 * ConvTranspose: onnxruntime's blocked Conv works on blocks of 16 channels (AVX-512), and model C's first layer's
 * took 5x the time as a Conv.
 */
const MIN_CHANNELS_FOR_CONV = 16;

/**
 * dX[c, i] = sum_m sum_k W[m, c, k] dY[m, i + pad - k * dilation] at unit strides: a Conv of dY with W[m, c, K-1-k]
 * as a [C, M/group] kernel, padded by the kernel's extent less the forward pads. onnxruntime runs a Conv in its
 * blocked (NCHWc) layout and a ConvTranspose as a GEMM and col2im: on model C at batch 256 (1 thread, profiled) the
 * second 3x3 layer's input gradient took 38 ms as a Conv against 50-54 ms as a ConvTranspose, less the reorders
 * into and out of the blocked layout the Conv brings (on ResNet-18 the whole gradient ran 1.13-1.41x faster). The
 * flipped weights are folded by onnxruntime, W being constant where W needs no gradient. False (nothing emitted)
 * when the Conv is strided, its pads exceed the kernel's extent or it has fewer than MIN_CHANNELS_FOR_CONV input
 * channels.
 */
function inputGradientAsConv(
  b: Backward,
  output: string,
  input: { dy: string; w: string; wShape: readonly number[]; group: number; window: ReturnType<typeof resolveWindow> },
): boolean {
  const { dy, w, wShape, group, window } = input;
  const extents = window.kernel.map((k, i) => (k - 1) * (window.dilations[i] as number));
  const padsBegin = extents.map((e, i) => e - (window.padsBegin[i] as number));
  const padsEnd = extents.map((e, i) => e - (window.padsEnd[i] as number));
  if (window.strides.some((s) => s !== 1) || [...padsBegin, ...padsEnd].some((p) => p < 0)) return false;
  const [outChannels, inPerGroup] = wShape as [number, number];
  if (group * inPerGroup < MIN_CHANNELS_FOR_CONV) return false;
  const kernelAxes = window.kernel.map((_, i) => i + 2);
  const swapped =
    group === 1
      ? b.node('Transpose', [w], { perm: ints([1, 0, ...kernelAxes]) })
      : b.reshape(
          b.node('Transpose', [b.reshape(w, [group, outChannels / group, inPerGroup, ...window.kernel])], {
            perm: ints([0, 2, 1, ...kernelAxes.map((a) => a + 1)]),
          }),
          [group * inPerGroup, outChannels / group, ...window.kernel],
        );
  const flipped = b.node('Slice', [
    swapped,
    b.int64s(window.kernel.map(() => -1)),
    b.int64s(window.kernel.map((k) => -k - 1)),
    b.int64s(kernelAxes),
    b.int64s(window.kernel.map(() => -1)),
  ]);
  b.node(
    'Conv',
    [dy, flipped],
    {
      group: int(group),
      dilations: ints(window.dilations),
      pads: ints([...padsBegin, ...padsEnd]),
      kernel_shape: ints(window.kernel),
    },
    output,
  );
  return true;
}

interface WeightGradientInput {
  x: string;
  dy: string;
  xShape: readonly number[];
  wShape: readonly number[];
  yShape: readonly number[];
  group: number;
  window: ReturnType<typeof resolveWindow>;
}

/**
 * dW[m, c, k] = sum_n sum_o dY[n, m, o] X[n, c, o * stride + k * dilation - pad]: for each kernel
 * offset k, the strided slice of padded X that offset meets, times dY, one batched MatMul over the
 * images (Xs[n] as c x o against dY[n]^T as o x m, groups as a second batch axis), summed over n.
 * On model C's layers (README, "Training engine") this ran at 1.4-2x the speed of the earlier
 * single Conv of X (channels as batch) with dY as a kernel as large as the output (the same on a
 * one-channel first layer): that Conv is a GEMM whose result has only kernel-size columns, the
 * shape GEMM kernels do worst on.
 */
function weightGradient(b: Backward, output: string, input: WeightGradientInput): void {
  const { x, dy, xShape, wShape, yShape, group, window } = input;
  const rank = xShape.length - 2;
  const spatialAxes = Array.from({ length: rank }, (_, i) => i + 2);
  const inPerGroup = (xShape[1] as number) / group;
  const outPerGroup = (wShape[0] as number) / group;
  const positions = yShape.slice(2).reduce((a, d) => a * d, 1);
  const padded = [...window.padsBegin, ...window.padsEnd].some((p) => p !== 0)
    ? b.node('Pad', [x, b.int64s([0, 0, ...window.padsBegin, 0, 0, ...window.padsEnd])], { mode: str('constant') })
    : x;
  // dY as [N, group, positions, M/group]: onnxruntime folds this Transpose into the MatMul.
  const dyT = b.node('Transpose', [b.reshape(dy, [-1, group, outPerGroup, positions])], { perm: ints([0, 1, 3, 2]) });
  const unitSteps = window.strides.every((s) => s === 1);
  const perOffset = kernelOffsets(window.kernel).map((offset) => {
    const starts = offset.map((k, i) => k * (window.dilations[i] as number));
    const ends = starts.map((s, i) => s + ((yShape[i + 2] as number) - 1) * (window.strides[i] as number) + 1);
    const sliceInputs = [
      padded,
      b.int64s(starts),
      b.int64s(ends),
      b.int64s(spatialAxes),
      ...(unitSteps ? [] : [b.int64s(window.strides)]),
    ];
    const taken = b.reshape(b.node('Slice', sliceInputs), [-1, group, inPerGroup, positions]);
    // [N, group, C/group, M/group] summed over the images: [group, C/group, M/group, 1].
    return b.unsqueeze(b.reduceSum(b.node('MatMul', [taken, dyT]), [0], false), [3]);
  });
  const stacked = perOffset.length === 1 ? (perOffset[0] as string) : b.node('Concat', perOffset, { axis: int(3) });
  b.reshape(b.node('Transpose', [stacked], { perm: ints([0, 2, 1, 3]) }), wShape, output);
}
