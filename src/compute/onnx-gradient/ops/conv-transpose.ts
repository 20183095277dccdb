import { convGradient } from './conv.js';
import {
  attrInt,
  attrInts,
  attrString,
  Backward,
  badModel,
  type GradientBuilder,
  type GradientContext,
} from './types.js';

/**
 * ConvTranspose (group 1, explicit pads): Y = ConvTranspose(X, W) is the adjoint of the Conv
 * with the same weights, strides, pads and dilations, so d/dX is that Conv of dY, and d/dW is
 * the Conv weight gradient with the roles of X and dY swapped (Conv's input dY, its output
 * gradient X): the Conv builder's own, asked through a context that says so. d/dB sums dY.
 */
export const convTransposeGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  if (attrInt(ctx.node, 'group', 1) !== 1) throw badModel(ctx.node, 'group > 1 is not supported');
  if (attrString(ctx.node, 'auto_pad', 'NOTSET') !== 'NOTSET' || attrInts(ctx.node, 'output_shape') !== undefined) {
    throw badModel(ctx.node, 'auto_pad and output_shape are not supported; give explicit pads (and output_padding)');
  }
  const rank = ctx.shape(ctx.input(0)).length - 2;
  const adjoint = {
    opType: 'Conv',
    name: `${ctx.node.name}_adjoint`,
    inputs: [dy, ctx.input(1)],
    outputs: [ctx.input(0)],
    attributes: Object.fromEntries(
      ['strides', 'pads', 'dilations', 'kernel_shape'].flatMap((key) =>
        ctx.node.attributes[key] ? [[key, ctx.node.attributes[key]]] : [],
      ),
    ),
  };
  if (ctx.needsGradient(0)) b.node('Conv', adjoint.inputs, adjoint.attributes, ctx.gradInput(0));
  let weight: ReturnType<GradientBuilder> = { nodes: [], initializers: [] };
  if (ctx.needsGradient(1)) {
    const asConv: GradientContext = {
      node: adjoint,
      opset: ctx.opset,
      input: (i) => adjoint.inputs[i] ?? '',
      output: () => ctx.input(0),
      gradOutput: () => ctx.input(0),
      gradInput: (i) => (i === 1 ? ctx.gradInput(1) : `${adjoint.name}/unused_${i}`),
      needsGradient: (i) => i === 1,
      shape: (name) => (name === dy ? ctx.shape(ctx.output(0)) : ctx.shape(name)),
      constant: (name) => ctx.constant(name),
    };
    weight = convGradient(asConv);
  }
  if (ctx.input(2) !== '' && ctx.needsGradient(2))
    b.reduceSum(dy, [0, ...Array.from({ length: rank }, (_, i) => i + 2)], false, ctx.gradInput(2));
  const own = b.done();
  return { nodes: [...own.nodes, ...weight.nodes], initializers: [...own.initializers, ...weight.initializers] };
};
