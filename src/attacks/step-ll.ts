import { gradientLoop, leastLikely } from './gradient-loop.js';
import { defineAttack } from './types.js';

/**
 * Single step towards the least-likely class (Kurakin et al. 1611.01236). It never reads the
 * true label, which is why it does not leak labels into adversarially trained models.
 */
export const stepLl = defineAttack({
  name: 'step-ll',
  kind: 'single-step',
  description: 'one step of eps towards the least-likely class (Kurakin et al. 1611.01236)',
  usesLabels: false,
  parameters: [],
  transformable: true,
  craft: function* (batch, params, transforms) {
    const labels = yield* leastLikely(batch);
    return yield* gradientLoop(
      { ...batch, labels },
      { ...params, steps: 1, stepSize: params.eps, targeted: true, randomStart: false, decay: 0 },
      { transforms },
    );
  },
});
