import { Backward, badModel, type GradientBuilder } from '../onnx-gradient/ops/types.js';
import { int } from '../onnx-gradient/ir.js';

/**
 * MaxPool's gradient for training: dY goes to the first maximum of each window (row-major), as
 * in tfjs and PyTorch, read from the forward node's Indices output (the training graph asks for
 * it) and scattered into a zero tensor of X's shape. The gradient builder's own MaxPool gradient
 * sends dY to every tied maximum, which suits input gradients but double-counts a weight
 * gradient wherever a stroke of saturated pixels makes equal neighbours (digits do, often).
 */
export const maxPoolFirstGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined || !ctx.needsGradient(0)) return b.done();
  const indices = ctx.output(1);
  if (indices === '') throw badModel(ctx.node, 'the training graph must ask MaxPool for its Indices output');
  const x = ctx.input(0);
  const flat = (v: string) => b.reshape(v, [-1]);
  const zeros = b.node('ConstantOfShape', [b.unsqueeze(b.node('Size', [x]), [0])]);
  const scattered = b.node('ScatterElements', [zeros, flat(indices), flat(dy)], { axis: int(0) });
  b.node('Reshape', [scattered, b.node('Shape', [x])], {}, ctx.gradInput(0));
  return b.done();
};
