import assert from 'node:assert/strict';
import { buildGradientModel } from '../../../src/compute/onnx-gradient/build.js';
import { decodeModel, int } from '../../../src/compute/onnx-gradient/ir.js';
import { buildWeightGradientModel } from '../../../src/compute/onnx-gradient/weights.js';
import { checkAgainstFiniteDifferences } from './finite-differences.js';
import { TinyGraph } from './tiny-graph.js';

const MASK_OPERATORS = ['Range', 'Mod', 'ScatterND', 'Equal', 'Not', 'Where', 'ConstantOfShape'];

/**
 * A shifted-window attention mask as torch.onnx writes Swin's (torchvision swin_transformer.py):
 * window ids from Range and Mod, a region overwritten by ScatterND into a ConstantOfShape sized from
 * the input's Shape, pairs of different windows found by Equal and Not, and -100 put there by Where;
 * added to a [N, 1, 16, 16] score map that does depend on the pixels.
 */
function shiftedWindowScores(g: TinyGraph): string {
  const size = g.node('Slice', [g.node('Shape', ['x']), g.int64s([2]), g.int64s([4])]);
  const zeros = g.node('ConstantOfShape', [size]);
  const row = g.node('Reshape', [g.int64s([3]), g.int64s([1, 1])]);
  const region = g.node('ScatterND', [zeros, row, g.floats([1, 4], [1, 1, 2, 2])]);
  const index = g.node('Reshape', [region, g.int64s([16])]);
  const window = g.node('Mod', [
    g.node('Range', [g.int64Scalar(0), g.int64Scalar(16), g.int64Scalar(1)]),
    g.int64s([4]),
  ]);
  const ids = g.node('Add', [index, g.node('Cast', [window], { to: int(1) })]);
  const same = g.node('Equal', [g.node('Unsqueeze', [ids, g.int64s([1])]), g.node('Unsqueeze', [ids, g.int64s([0])])]);
  const mask = g.node('Where', [g.node('Not', [same]), g.floats([], [-100]), g.floats([], [0])]);
  // Weights up to 3: a flatter loss drowns the finite differences in float32 rounding.
  const conv = g.node('Conv', ['x', g.weight([1, 2, 1, 1], 3), g.weight([1], 0.1)]);
  const tokens = g.node('Reshape', [conv, g.int64s([-1, 1, 16, 1])]);
  const scores = g.node('Mul', [tokens, g.node('Reshape', [conv, g.int64s([-1, 1, 1, 16])])]);
  return g.node('Softmax', [g.node('Add', [scores, mask])], { axis: int(-1) });
}

/**
 * Swin-V2's weight-only attention terms as torch.onnx writes them: the continuous position bias
 * (an MLP with a ReLU on a constant coordinate table, then 16 * Sigmoid), the logit scale clamped
 * and exponentiated (Clip, Exp), and the qkv bias with its key third zeroed (ScatterND); all
 * applied to [N, 1, 4, 4] scores that do depend on the pixels.
 */
function cosineAttentionScores(g: TinyGraph): string {
  const hidden = g.node('Relu', [g.node('MatMul', [g.weight([16, 2]), g.weight([2, 8])])]);
  const table = g.node('Reshape', [g.node('MatMul', [hidden, g.weight([8, 1])]), g.int64s([1, 1, 4, 4])]);
  const bias = g.node('Mul', [g.node('Sigmoid', [table]), g.floats([], [16])]);
  const scale = g.node('Exp', [g.node('Clip', [g.weight([1, 1, 1]), '', g.floats([], [Math.log(100)])])]);
  const qkvBias = g.node('ScatterND', [
    g.weight([4], 0.3),
    g.node('Reshape', [g.int64s([1]), g.int64s([1, 1])]),
    g.floats([1], [0]),
  ]);
  const conv = g.node('Conv', ['x', g.weight([1, 2, 1, 1], 3), g.weight([1], 0.1)]);
  const tokens = g.node('Add', [g.node('Reshape', [conv, g.int64s([-1, 1, 4, 4])]), qkvBias]);
  return g.node('Softmax', [g.node('Add', [g.node('Mul', [tokens, scale]), bias])], { axis: int(-1) });
}

describe('ONNX gradient: folding what does not depend on the pixels', () => {
  it('folds a Swin-style attention mask (Range, Mod, ScatterND, Equal, Not, Where) into a constant', async () => {
    const g = new TinyGraph([2, 4, 4]);
    const { bytes, description } = await g.classifier(shiftedWindowScores(g));
    const built = decodeModel(await buildGradientModel(bytes, description, { loss: 'cross-entropy' }));
    const left = built.nodes.filter((n) => MASK_OPERATORS.includes(n.opType) && !n.name.startsWith('transferbench'));
    assert.deepEqual(
      left.map((n) => n.name),
      [],
    );
    const check = await checkAgainstFiniteDifferences(bytes, description, { loss: 'cross-entropy' });
    assert.ok(check.error <= 1e-3, `error ${check.error.toExponential(2)}`);
  });

  it("folds Swin-V2's weight-only terms (Relu, Sigmoid, Clip, Exp, ScatterND) into constants", async () => {
    const g = new TinyGraph([2, 4, 4]);
    const { bytes, description } = await g.classifier(cosineAttentionScores(g));
    const built = decodeModel(await buildGradientModel(bytes, description, { loss: 'cross-entropy' }));
    const weightOnly = ['Relu', 'Sigmoid', 'Clip', 'Exp', 'ScatterND', 'MatMul'];
    const left = built.nodes.filter((n) => weightOnly.includes(n.opType) && !n.name.startsWith('transferbench'));
    assert.deepEqual(
      left.map((n) => n.name),
      [],
    );
    const check = await checkAgainstFiniteDifferences(bytes, description, { loss: 'cross-entropy' });
    assert.ok(check.error <= 1e-3, `error ${check.error.toExponential(2)}`);
  });

  it('keeps what is computed from the weights when the weights are differentiated', async () => {
    const g = new TinyGraph([2, 3, 3]);
    const flat = g.node('Flatten', ['x'], { axis: int(1) });
    const w = g.weight([3, 18]);
    const logits = g.node('MatMul', [flat, g.node('Transpose', [w], { perm: { kind: 'ints', value: [1, 0] } })]);
    const { bytes, description } = g.asIs(logits, 3);
    const built = await buildWeightGradientModel(bytes, description);
    assert.deepEqual(
      built.weights.map((x) => x.name),
      [w],
    );
  });
});
