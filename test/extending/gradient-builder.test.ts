/**
 * Worked example (docs/extending.md): adding a gradient builder. Softsign, y = x / (1 + |x|),
 * whose derivative is (1 - |y|)^2. In the tree it would be src/compute/onnx-gradient/ops/softsign.ts
 * plus one line in src/compute/onnx-gradient/registry.ts and one row in operators.test.ts.
 */
import assert from 'node:assert/strict';
import { GRADIENT_BUILDERS } from '../../src/compute/onnx-gradient/registry.js';
import { unary } from '../../src/compute/onnx-gradient/ops/elementwise.js';
import { checkAgainstFiniteDifferences } from '../compute/onnx-gradient/finite-differences.js';
import { TinyGraph } from '../compute/onnx-gradient/tiny-graph.js';

// A builder only returns the backward nodes of its forward node; the wiring pass connects them.
const softsignGradient = unary((b, ctx, dy, out) => {
  const keep = b.node('Sub', [b.floats([], [1]), b.node('Abs', [ctx.output(0)])]);
  b.node('Mul', [dy, b.node('Mul', [keep, keep])], {}, out);
});

describe('extending: a gradient builder (Softsign)', () => {
  const build = (g: TinyGraph) => g.node('Softsign', [g.node('Conv', ['x', g.weight([3, 2, 3, 3], 2), g.weight([3])])]);

  it('is refused at creation while no builder is registered, naming the operator', async () => {
    const graph = new TinyGraph([2, 6, 6]);
    const { bytes, description } = await graph.classifier(build(graph));
    await assert.rejects(
      checkAgainstFiniteDifferences(bytes, description, { loss: 'cross-entropy' }),
      /no gradient for operator Softsign/,
    );
  });

  it(
    'once registered, matches finite differences of the generated model ' + '(normwise relative error <= 1e-3)',
    async () => {
      GRADIENT_BUILDERS.add('Softsign', softsignGradient);
      try {
        const graph = new TinyGraph([2, 6, 6]);
        const { bytes, description } = await graph.classifier(build(graph));
        const check = await checkAgainstFiniteDifferences(bytes, description, { loss: 'cross-entropy' });
        assert.ok(check.error <= 1e-3, `error ${check.error.toExponential(2)}`);
      } finally {
        GRADIENT_BUILDERS.remove('Softsign');
      }
    },
  );
});
