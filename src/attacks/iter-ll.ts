import { KURAKIN_PARAMETERS } from './bim.js';
import { gradientLoop, leastLikely } from './gradient-loop.js';
import { defineAttack } from './types.js';

/** Iterative least-likely class method (Kurakin et al.): BIM towards the class least likely on the clean image. */
export const iterLl = defineAttack({
  name: 'iter-ll',
  kind: 'multi-step',
  description: "iterative least-likely class: BIM towards the clean image's least-likely class (Kurakin et al.)",
  usesLabels: false,
  parameters: KURAKIN_PARAMETERS,
  transformable: true,
  craft: function* (batch, params, transforms) {
    const labels = yield* leastLikely(batch);
    return yield* gradientLoop(
      { ...batch, labels },
      { ...params, targeted: true, randomStart: false, decay: 0 },
      { transforms },
    );
  },
});
