import assert from 'node:assert/strict';
import { buildGradientModel } from '../../../../src/compute/onnx-gradient/build.js';
import { int, ints, str, type Attribute } from '../../../../src/compute/onnx-gradient/ir.js';
import { TinyGraph } from '../tiny-graph.js';

/**
 * Its values are checked in the finite-difference tables (operators.test.ts, weight-layers.test.ts); here, what it
 * refuses.
 */
describe('ConvTranspose gradient builder', () => {
  const refusal = async (attributes: Record<string, Attribute>, weight: number[], pattern: RegExp) => {
    const g = new TinyGraph([2, 3, 3]);
    const { bytes, description } = await g.classifier(g.node('ConvTranspose', ['x', g.weight(weight)], attributes));
    await assert.rejects(buildGradientModel(bytes, description, { loss: 'cross-entropy' }), pattern);
  };

  it('refuses groups, auto_pad and output_shape, naming the node', async () => {
    await refusal({ group: int(2) }, [2, 1, 3, 3], /ConvTranspose node ConvTranspose_\d+: group > 1 is not supported/);
    await refusal(
      { auto_pad: str('SAME_UPPER'), strides: ints([2, 2]) },
      [2, 2, 3, 3],
      /auto_pad and output_shape are not supported/,
    );
  });
});
