import { ints } from '../../../src/compute/onnx-gradient/ir.js';
import type { TinyGraph } from './tiny-graph.js';

/**
 * (x - mean) / sqrt(var + eps) over `axes` from primitive nodes, as the training graph writes its
 * normalisation layers (src/compute/network/normalization.ts): axes [2, 3] instance norm,
 * [0, 2, 3] batch norm in training mode.
 */
export function normalise(g: TinyGraph, x: string, axes: number[]): string {
  const centred = g.node('Sub', [x, g.node('ReduceMean', [x], { axes: ints(axes) })]);
  const variance = g.node('ReduceMean', [g.node('Mul', [centred, centred])], { axes: ints(axes) });
  return g.node('Div', [centred, g.node('Sqrt', [g.node('Add', [variance, g.floats([], [1e-5])])])]);
}
