import assert from 'node:assert/strict';
import { decodeModel, ints } from '../../../src/compute/onnx-gradient/ir.js';
import { commuteReluMaxPool } from '../../../src/compute/onnx-gradient/rewrite.js';
import { TinyGraph } from './tiny-graph.js';

describe('commuteReluMaxPool', () => {
  it('moves a Relu read only by a MaxPool behind it, and leaves a Relu with another reader', async () => {
    const g = new TinyGraph([2, 4, 4]);
    const pooled = g.node('MaxPool', [g.node('Relu', ['x'])], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) });
    const shared = g.node('Relu', [g.node('Neg', ['x'])]);
    const both = g.node('Add', [
      g.node('MaxPool', [shared], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
      pooled,
    ]);
    const graph = commuteReluMaxPool(
      decodeModel(g.asIs(g.node('Add', [both, g.node('ReduceMean', [shared], { axes: ints([2, 3]) })]), 2).bytes),
    );
    const ops = graph.nodes.map((n) => n.opType);
    assert.deepEqual(ops.slice(0, 2), ['MaxPool', 'Relu']);
    assert.equal(graph.nodes[1]?.outputs[0], pooled);
    assert.deepEqual(ops.slice(2, 5), ['Neg', 'Relu', 'MaxPool']);
  });
});
