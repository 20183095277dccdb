import { float, int, ints } from '../ir.js';
import { attrFloat, attrInt, Backward, badModel, type GradientBuilder } from './types.js';

/**
 * Gemm: Y = alpha op(A) op(B) + beta C. Each input's gradient is one Gemm with the transposes
 * folded into its transA/transB flags (no Transpose nodes), as onnxruntime's builder does.
 */
export const gemmGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  const alpha = attrFloat(ctx.node, 'alpha', 1);
  const beta = attrFloat(ctx.node, 'beta', 1);
  const transA = attrInt(ctx.node, 'transA', 0) === 1;
  const transB = attrInt(ctx.node, 'transB', 0) === 1;
  const [a, bIn] = [ctx.input(0), ctx.input(1)];
  const gemm = (x: string, y: string, tA: boolean, tB: boolean, out: string) =>
    b.node('Gemm', [x, y], { alpha: float(alpha), transA: int(tA ? 1 : 0), transB: int(tB ? 1 : 0) }, out);
  if (ctx.needsGradient(0)) {
    // op(A) = A: dA = dY op(B)^T.  op(A) = A^T: dA = op(B) dY^T.
    if (!transA) gemm(dy, bIn, false, !transB, ctx.gradInput(0));
    else gemm(bIn, dy, transB, true, ctx.gradInput(0));
  }
  if (ctx.needsGradient(1)) {
    // op(B) = B: dB = op(A)^T dY.  op(B) = B^T: dB = dY^T op(A).
    if (!transB) gemm(a, dy, !transA, false, ctx.gradInput(1));
    else gemm(dy, a, true, transA, ctx.gradInput(1));
  }
  if (ctx.input(2) !== '' && ctx.needsGradient(2)) {
    const scaled = beta === 1 ? dy : b.node('Mul', [dy, b.floats([], [beta])]);
    b.unbroadcast(scaled, ctx.shape(ctx.output(0)), ctx.input(2), ctx.gradInput(2));
  }
  return b.done();
};

/**
 * MatMul with numpy batch broadcasting (both inputs of rank >= 2): dA = dY B^T and dB = A^T dY
 * on the broadcast batch, summed back to each input's own batch shape.
 */
export const matMulGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  const aShape = ctx.shape(ctx.input(0));
  const bShape = ctx.shape(ctx.input(1));
  const yShape = ctx.shape(ctx.output(0));
  if (aShape.length < 2 || bShape.length < 2)
    throw badModel(ctx.node, 'a 1-D operand is not supported; only MatMul of inputs of rank 2 or more');
  const swapLast = (rank: number) => ints([...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2]);
  const batch = yShape.slice(0, -2);
  if (ctx.needsGradient(0)) {
    const full = b.node('MatMul', [dy, b.node('Transpose', [ctx.input(1)], { perm: swapLast(bShape.length) })]);
    b.unbroadcast(
      full,
      [...batch, aShape[aShape.length - 2] as number, aShape[aShape.length - 1] as number],
      ctx.input(0),
      ctx.gradInput(0),
    );
  }
  if (ctx.needsGradient(1)) {
    const full = b.node('MatMul', [b.node('Transpose', [ctx.input(0)], { perm: swapLast(aShape.length) }), dy]);
    b.unbroadcast(
      full,
      [...batch, bShape[bShape.length - 2] as number, bShape[bShape.length - 1] as number],
      ctx.input(1),
      ctx.gradInput(1),
    );
  }
  return b.done();
};
