import { maxPoolGradient } from '../onnx-gradient/ops/pool.js';
import { resolveWindow } from '../onnx-gradient/ops/geometry.js';
import { Backward, badModel, type GradientBuilder } from '../onnx-gradient/ops/types.js';
import { ints } from '../onnx-gradient/ir.js';

/**
 * MaxPool's gradient for training: dY goes to the first maximum of each window (row-major), as
 * in tfjs and PyTorch, read from the forward node's Indices output (the training graph asks for
 * it) by one MaxUnpool, which writes dY at those indices into zeros of X's shape. (MaxUnpool ran
 * at 1.4-2.2x the speed of the ScatterElements into a ConstantOfShape it replaced.) Both write
 * rather than add where two windows share a maximum, so overlapping windows take the gradient
 * builder's own first-maximum gradient instead, which sums them. The builder's gradient sends dY
 * to the first maximum too; it is not the default here because comparing every offset's slice
 * with Y measured slower than reading the Indices.
 */
export const maxPoolFirstGradient: GradientBuilder = (ctx) => {
  const dy = ctx.gradOutput(0);
  const indices = ctx.output(1);
  if (indices === '') throw badModel(ctx.node, 'the training graph must ask MaxPool for its Indices output');
  const x = ctx.input(0);
  const shape = ctx.shape(x);
  const window = resolveWindow(ctx.node, shape.slice(2));
  const overlapping = window.kernel.some(
    (k, i) => (k - 1) * (window.dilations[i] as number) + 1 > (window.strides[i] as number),
  );
  if (overlapping) return maxPoolGradient(ctx);
  const b = new Backward(ctx);
  if (dy === undefined || !ctx.needsGradient(0)) return b.done();
  const attributes = {
    kernel_shape: ints(window.kernel),
    strides: ints(window.strides),
    pads: ints([...window.padsBegin, ...window.padsEnd]),
  };
  b.node('MaxUnpool', [dy, indices, b.node('Shape', [x])], attributes, ctx.gradInput(0));
  return b.done();
};
