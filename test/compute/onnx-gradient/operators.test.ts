import assert from 'node:assert/strict';
import { float, int, ints, str } from '../../../src/compute/onnx-gradient/ir.js';
import { checkAgainstFiniteDifferences } from './finite-differences.js';
import { normalise } from './normalise.js';
import { TinyGraph } from './tiny-graph.js';

interface Row {
  readonly name: string;
  /** One image, NCHW without the batch. */
  readonly shape: readonly [number, number, number];
  readonly opset?: number;
  /** Adds the nodes under test after input `x`; returns the value the classifier reads. */
  readonly build: (g: TinyGraph) => string;
}

const conv = (g: TinyGraph, x: string, w: number[], attributes: Parameters<TinyGraph['node']>[2] = {}) =>
  g.node('Conv', [x, g.weight(w), g.weight([w[0] as number], 0.1)], attributes);
const relu = (g: TinyGraph, x: string) => g.node('Relu', [x]);

/** One row per operator and attribute combination (issue 18). */
const ROWS: Row[] = [
  {
    name: 'Conv 3x3, pads 1',
    shape: [2, 6, 6],
    build: (g) => conv(g, 'x', [3, 2, 3, 3], { pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'Conv 3x3, stride 2, rows left over',
    shape: [2, 8, 8],
    build: (g) => conv(g, 'x', [3, 2, 3, 3], { strides: ints([2, 2]) }),
  },
  {
    name: 'Conv 2x3 asymmetric pads and strides',
    shape: [2, 7, 6],
    build: (g) => conv(g, 'x', [3, 2, 2, 3], { pads: ints([0, 1, 2, 0]), strides: ints([2, 1]) }),
  },
  {
    name: 'Conv 3x3, dilations 2',
    shape: [2, 8, 8],
    build: (g) => conv(g, 'x', [3, 2, 3, 3], { dilations: ints([2, 2]) }),
  },
  { name: 'Conv, groups 2', shape: [4, 6, 6], build: (g) => conv(g, 'x', [6, 2, 3, 3], { group: int(2) }) },
  {
    name: 'Conv, depthwise',
    shape: [3, 6, 6],
    build: (g) => conv(g, 'x', [3, 1, 3, 3], { group: int(3), pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'Conv, depthwise with multiplier 2, stride 2',
    shape: [3, 7, 7],
    build: (g) => conv(g, 'x', [6, 1, 3, 3], { group: int(3), strides: ints([2, 2]) }),
  },
  {
    name: 'Conv, auto_pad SAME_UPPER, stride 2',
    shape: [2, 7, 7],
    build: (g) => conv(g, 'x', [3, 2, 4, 4], { auto_pad: str('SAME_UPPER'), strides: ints([2, 2]) }),
  },
  {
    name: 'Conv, auto_pad SAME_LOWER',
    shape: [2, 6, 6],
    build: (g) => conv(g, 'x', [3, 2, 2, 2], { auto_pad: str('SAME_LOWER') }),
  },
  {
    name: 'Conv, auto_pad VALID, no bias',
    shape: [2, 6, 6],
    build: (g) => g.node('Conv', ['x', g.weight([3, 2, 3, 3])], { auto_pad: str('VALID') }),
  },
  {
    name: 'Conv 1x1, stride 2 (projection shortcut)',
    shape: [2, 6, 6],
    build: (g) => conv(g, 'x', [4, 2, 1, 1], { strides: ints([2, 2]) }),
  },
  {
    name: 'Gemm',
    shape: [2, 3, 3],
    build: (g) => g.node('Gemm', [g.node('Flatten', ['x']), g.weight([18, 5]), g.weight([5])]),
  },
  {
    name: 'Gemm transB, alpha 0.7, beta 1.3',
    shape: [2, 3, 3],
    build: (g) =>
      g.node('Gemm', [g.node('Flatten', ['x']), g.weight([5, 18]), g.weight([1, 5])], {
        transB: int(1),
        alpha: float(0.7),
        beta: float(1.3),
      }),
  },
  {
    name: 'Gemm transA',
    shape: [2, 3, 3],
    build: (g) =>
      g.node('Gemm', [g.node('Transpose', [g.node('Flatten', ['x'])], { perm: ints([1, 0]) }), g.weight([18, 5])], {
        transA: int(1),
      }),
  },
  {
    name: 'Gemm transA transB, image-dependent C',
    shape: [2, 3, 3],
    build: (g) => {
      const flat = g.node('Flatten', ['x']);
      const c = g.node('Tanh', [g.node('Gemm', [flat, g.weight([18, 4])])]);
      return g.node('Gemm', [g.node('Transpose', [flat], { perm: ints([1, 0]) }), g.weight([4, 18]), c], {
        transA: int(1),
        transB: int(1),
        beta: float(0.5),
      });
    },
  },
  {
    name: 'MatMul 2-D',
    shape: [2, 3, 3],
    build: (g) => g.node('MatMul', [g.node('Flatten', ['x']), g.weight([18, 4])]),
  },
  {
    name: 'MatMul 4-D x 2-D (broadcast weight)',
    shape: [2, 3, 4],
    build: (g) => g.node('MatMul', ['x', g.weight([4, 3])]),
  },
  { name: 'MatMul 4-D x 3-D', shape: [2, 3, 4], build: (g) => g.node('MatMul', ['x', g.weight([2, 4, 3])]) },
  {
    name: 'MatMul of two image-dependent operands',
    shape: [2, 3, 4],
    build: (g) => g.node('MatMul', ['x', g.node('Transpose', ['x'], { perm: ints([0, 1, 3, 2]) })]),
  },
  { name: 'Add, per-channel bias', shape: [2, 4, 4], build: (g) => g.node('Add', ['x', g.weight([2, 1, 1])]) },
  {
    name: 'Add, broadcast of an image-dependent [N, C, 1, 1]',
    shape: [2, 4, 4],
    build: (g) => g.node('Add', [g.node('Tanh', ['x']), g.node('GlobalAveragePool', [g.node('Mul', ['x', 'x'])])]),
  },
  {
    name: 'Sub, image-dependent on both sides, broadcast',
    shape: [2, 4, 4],
    build: (g) => g.node('Sub', [g.node('ReduceMean', ['x'], { axes: ints([3]) }), g.node('Sigmoid', ['x'])]),
  },
  {
    name: 'Mul, squeeze-and-excitation style',
    shape: [2, 4, 4],
    build: (g) => g.node('Mul', ['x', g.node('Sigmoid', [g.node('GlobalAveragePool', ['x'])])]),
  },
  { name: 'Mul, rank-1 weight broadcast', shape: [2, 4, 4], build: (g) => g.node('Mul', ['x', g.weight([4])]) },
  { name: 'Div by a weight', shape: [2, 4, 4], build: (g) => g.node('Div', ['x', g.positive([2, 1, 4])]) },
  {
    name: 'Div by an image-dependent denominator',
    shape: [2, 4, 4],
    build: (g) => g.node('Div', ['x', g.node('Add', [g.node('Mul', ['x', 'x']), g.floats([], [1])])]),
  },
  {
    name: 'Neg, Exp, Log',
    shape: [2, 3, 3],
    build: (g) => g.node('Log', [g.node('Add', [g.node('Exp', [g.node('Neg', ['x'])]), g.floats([], [0.5])])]),
  },
  { name: 'Relu', shape: [2, 4, 4], build: (g) => relu(g, conv(g, 'x', [3, 2, 3, 3])) },
  {
    name: 'LeakyRelu alpha 0.2',
    shape: [2, 4, 4],
    build: (g) => g.node('LeakyRelu', [conv(g, 'x', [3, 2, 3, 3])], { alpha: float(0.2) }),
  },
  { name: 'Sigmoid', shape: [2, 4, 4], build: (g) => g.node('Sigmoid', [conv(g, 'x', [3, 2, 3, 3])]) },
  { name: 'Tanh', shape: [2, 4, 4], build: (g) => g.node('Tanh', [conv(g, 'x', [3, 2, 3, 3])]) },
  {
    name: 'Clip min and max as inputs (opset 13, ReLU6 style)',
    shape: [2, 4, 4],
    build: (g) => g.node('Clip', [g.node('Mul', ['x', g.floats([], [4])]), g.floats([], [-1]), g.floats([], [1.5])]),
  },
  {
    name: 'Clip min only (opset 11)',
    shape: [2, 4, 4],
    opset: 11,
    build: (g) => g.node('Clip', [g.node('Mul', ['x', g.floats([], [4])]), g.floats([], [-0.5])]),
  },
  {
    name: 'Softmax axis 1 (opset 13)',
    shape: [3, 2, 2],
    build: (g) => g.node('Softmax', [g.node('Mul', ['x', g.floats([], [3])])], { axis: int(1) }),
  },
  {
    name: 'Softmax coerced to 2-D at axis 1 (opset 11)',
    shape: [3, 2, 2],
    opset: 11,
    build: (g) => g.node('Softmax', [g.node('Mul', ['x', g.floats([], [3])])]),
  },
  { name: 'LogSoftmax axis -1', shape: [2, 2, 4], build: (g) => g.node('LogSoftmax', ['x'], { axis: int(-1) }) },
  {
    name: 'LogSoftmax coerced at axis 2 (opset 12)',
    shape: [2, 2, 4],
    opset: 12,
    build: (g) => g.node('LogSoftmax', ['x'], { axis: int(2) }),
  },
  {
    name: 'MaxPool 2x2 stride 2 (non-overlapping)',
    shape: [2, 6, 6],
    build: (g) => g.node('MaxPool', ['x'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
  },
  {
    name: 'Relu then MaxPool 2x2 (commuted: the mask at pooled resolution)',
    shape: [2, 6, 6],
    build: (g) => g.node('MaxPool', [relu(g, 'x')], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
  },
  {
    name: 'Relu then MaxPool 3x3 stride 2 pads 1 (commuted, overlapping)',
    shape: [2, 6, 6],
    build: (g) =>
      g.node('MaxPool', [relu(g, 'x')], {
        kernel_shape: ints([3, 3]),
        strides: ints([2, 2]),
        pads: ints([1, 1, 1, 1]),
      }),
  },
  {
    name: 'MaxPool 2x3 stride 2x3 (non-square, viewed windows)',
    shape: [2, 4, 6],
    build: (g) => g.node('MaxPool', ['x'], { kernel_shape: ints([2, 3]), strides: ints([2, 3]) }),
  },
  {
    name: 'MaxPool 2x2 stride 2 on odd size (floor)',
    shape: [2, 7, 7],
    build: (g) => g.node('MaxPool', ['x'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
  },
  {
    name: 'MaxPool 2x2 stride 2, ceil_mode',
    shape: [2, 7, 7],
    build: (g) => g.node('MaxPool', ['x'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]), ceil_mode: int(1) }),
  },
  {
    name: 'MaxPool 3x3 stride 2 pads 1 (overlapping)',
    shape: [2, 7, 7],
    build: (g) =>
      g.node('MaxPool', ['x'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'MaxPool 3x3 stride 1, auto_pad SAME_UPPER',
    shape: [2, 5, 5],
    build: (g) => g.node('MaxPool', ['x'], { kernel_shape: ints([3, 3]), auto_pad: str('SAME_UPPER') }),
  },
  {
    name: 'MaxPool 2x2 dilations 2',
    shape: [2, 6, 6],
    build: (g) => g.node('MaxPool', ['x'], { kernel_shape: ints([2, 2]), dilations: ints([2, 2]) }),
  },
  {
    name: 'AveragePool 2x2 stride 2',
    shape: [2, 6, 6],
    build: (g) => g.node('AveragePool', ['x'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
  },
  {
    name: 'AveragePool 3x3 pads 1, count_include_pad 0',
    shape: [2, 5, 5],
    build: (g) => g.node('AveragePool', ['x'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'AveragePool 3x3 stride 2 pads 1, count_include_pad 1',
    shape: [2, 6, 6],
    build: (g) =>
      g.node('AveragePool', ['x'], {
        kernel_shape: ints([3, 3]),
        strides: ints([2, 2]),
        pads: ints([1, 1, 1, 1]),
        count_include_pad: int(1),
      }),
  },
  {
    name: 'AveragePool 2x2 stride 2, ceil_mode',
    shape: [2, 5, 5],
    build: (g) =>
      g.node('AveragePool', ['x'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]), ceil_mode: int(1) }),
  },
  { name: 'GlobalAveragePool', shape: [3, 4, 4], build: (g) => g.node('GlobalAveragePool', [g.node('Tanh', ['x'])]) },
  {
    name: 'BatchNormalization (inference)',
    shape: [3, 4, 4],
    build: (g) =>
      g.node('BatchNormalization', ['x', g.weight([3]), g.weight([3]), g.weight([3]), g.positive([3])], {
        epsilon: float(1e-3),
      }),
  },
  {
    name: 'BatchNormalization (opset 15)',
    shape: [3, 4, 4],
    opset: 15,
    build: (g) => g.node('BatchNormalization', ['x', g.weight([3]), g.weight([3]), g.weight([3]), g.positive([3])]),
  },
  {
    name: 'Flatten axis 2',
    shape: [2, 3, 3],
    build: (g) =>
      g.node('Reshape', [
        g.node('MatMul', [g.node('Flatten', ['x'], { axis: int(2) }), g.weight([9, 2])]),
        g.int64s([-1, 4]),
      ]),
  },
  {
    name: 'Reshape to a constant [0, 3, -1]',
    shape: [2, 3, 4],
    build: (g) => g.node('Tanh', [g.node('Reshape', ['x', g.int64s([0, 3, -1])])]),
  },
  {
    name: 'Reshape by a Shape/Gather/Unsqueeze/Concat sub-graph (folded)',
    shape: [2, 3, 4],
    build: (g) => {
      const batch = g.node('Unsqueeze', [
        g.node('Gather', [g.node('Shape', ['x']), g.int64s([0])], { axis: int(0) }),
        g.int64s([0]),
      ]);
      const target = g.node('Concat', [g.node('Squeeze', [batch, g.int64s([0])]), g.int64s([-1])], { axis: int(0) });
      return g.node('Reshape', [g.node('Sigmoid', ['x']), target]);
    },
  },
  {
    name: 'Transpose',
    shape: [2, 3, 4],
    build: (g) => g.node('MatMul', [g.node('Transpose', ['x'], { perm: ints([0, 3, 1, 2]) }), g.weight([3, 2])]),
  },
  {
    name: 'Concat along channels',
    shape: [2, 4, 4],
    build: (g) => g.node('Concat', ['x', g.node('Sigmoid', ['x']), conv(g, 'x', [1, 2, 1, 1])], { axis: int(1) }),
  },
  {
    name: 'Pad, pads as input (opset 11), constant value',
    shape: [2, 4, 4],
    opset: 11,
    build: (g) => g.node('Pad', ['x', g.int64s([0, 0, 1, 2, 0, 0, 2, 0]), g.floats([], [0.3])]),
  },
  {
    name: 'Pad with a negative pad (crop)',
    shape: [2, 4, 4],
    build: (g) => g.node('Pad', ['x', g.int64s([0, 0, -1, 1, 0, 0, 1, -2])]),
  },
  {
    name: 'Pad with axes (opset 18)',
    shape: [2, 4, 4],
    opset: 18,
    build: (g) => g.node('Pad', ['x', g.int64s([1, 2, 0, 1]), '', g.int64s([2, 3])]),
  },
  {
    name: 'Squeeze and Unsqueeze, axes as attributes (opset 11)',
    shape: [1, 3, 4],
    opset: 11,
    build: (g) =>
      g.node('Unsqueeze', [g.node('Tanh', [g.node('Squeeze', ['x'], { axes: ints([1]) })])], { axes: ints([2]) }),
  },
  {
    name: 'Squeeze and Unsqueeze, axes as inputs (opset 13)',
    shape: [1, 3, 4],
    build: (g) => g.node('Unsqueeze', [g.node('Tanh', [g.node('Squeeze', ['x', g.int64s([1])])]), g.int64s([2])]),
  },
  {
    name: 'ReduceMean keepdims 0',
    shape: [2, 3, 4],
    build: (g) => g.node('ReduceMean', [g.node('Mul', ['x', 'x'])], { axes: ints([1, 3]), keepdims: int(0) }),
  },
  {
    name: 'ReduceMean, axes as input (opset 18)',
    shape: [2, 3, 4],
    opset: 18,
    build: (g) => g.node('ReduceMean', [g.node('Mul', ['x', 'x']), g.int64s([-1])]),
  },
  {
    name: 'ReduceSum, axes as input (opset 13)',
    shape: [2, 3, 4],
    build: (g) => g.node('ReduceSum', [g.node('Tanh', ['x']), g.int64s([2])], { keepdims: int(0) }),
  },
  {
    name: 'ReduceMax (maxout)',
    shape: [2, 3, 4],
    opset: 11,
    build: (g) => g.node('ReduceMax', ['x'], { axes: ints([3]), keepdims: int(0) }),
  },
  {
    name: 'Sqrt',
    shape: [2, 4, 4],
    build: (g) => g.node('Sqrt', [g.node('Add', [g.node('Mul', ['x', 'x']), g.floats([], [0.3])])]),
  },
  {
    name: 'ConvTranspose 3x3 stride 2, pads 0 0 1 1 (tfjs same), bias',
    shape: [2, 4, 4],
    build: (g) =>
      g.node('ConvTranspose', ['x', g.weight([2, 3, 3, 3]), g.weight([3], 0.1)], {
        strides: ints([2, 2]),
        pads: ints([0, 0, 1, 1]),
      }),
  },
  {
    name: 'ConvTranspose 1x1 stride 2, output_padding 1',
    shape: [2, 3, 3],
    build: (g) =>
      g.node('ConvTranspose', ['x', g.weight([2, 2, 1, 1])], { strides: ints([2, 2]), output_padding: ints([1, 1]) }),
  },
  {
    name: 'Instance normalisation from primitive nodes (ReduceMean, Sub, Sqrt, Div)',
    shape: [2, 4, 4],
    build: (g) => g.node('Mul', [normalise(g, g.node('Tanh', ['x']), [2, 3]), g.weight([2, 1, 1])]),
  },
  {
    name: 'Identity and Dropout',
    shape: [2, 3, 3],
    build: (g) => g.node('Dropout', [g.node('Identity', [g.node('Tanh', ['x'])])]),
  },
  {
    name: 'Fan-out: one value read by three nodes',
    shape: [2, 4, 4],
    build: (g) => {
      const t = g.node('Tanh', ['x']);
      return g.node('Add', [g.node('Mul', [t, t]), conv(g, t, [2, 2, 1, 1])]);
    },
  },
];

describe('ONNX gradient builders against central finite differences', () => {
  for (const row of ROWS) {
    it(`${row.name}: normwise relative error <= 1e-3`, async () => {
      const graph = new TinyGraph(row.shape, row.opset ?? 13);
      const { bytes, description } = await graph.classifier(row.build(graph));
      const check = await checkAgainstFiniteDifferences(bytes, description, { loss: 'cross-entropy' });
      if (process.env.GRAD_VERBOSE) console.log(row.name, check.error.toExponential(2));
      assert.ok(check.error <= 1e-3, `error ${check.error.toExponential(2)}`);
    });
  }
});
