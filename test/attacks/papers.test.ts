import assert from 'node:assert/strict';
import { craftAdversarial, resolveParams, ATTACKS } from '../../src/attacks/index.js';
import { signOf } from '../../src/attacks/gradient-loop.js';
import { drawDiversity } from '../../src/attacks/transforms/di.js';
import { Random } from '../../src/common/random.js';
import type { LossGradient, Surrogate } from '../../src/compute/surrogate.js';

/** A surrogate whose every input gradient component is `tiny` in magnitude, alternating in sign. */
function tinyGradientSurrogate(tiny: number): Surrogate {
  return {
    name: 'tiny-gradient',
    imageShape: [4, 4, 1],
    classes: 2,
    logits: async (_images, count) => new Float32Array(count * 2),
    lossGradient: async (images, labels): Promise<LossGradient> => ({
      logits: new Float32Array(labels.length * 2),
      loss: new Float32Array(labels.length),
      gradient: Float32Array.from(images, (_, i) => (i % 2 === 0 ? tiny : -tiny)),
    }),
    dispose: async () => {},
  };
}

describe('attacks true to their papers', () => {
  it('takes the sign of every nonzero gradient component as torch.sign does, however small', () => {
    for (const v of [1e-30, 1e-9, 1.1e-7]) {
      assert.equal(signOf(v), 1, String(v));
      assert.equal(signOf(-v), -1, String(-v));
    }
    assert.equal(signOf(0), 0);
    assert.equal(signOf(-0), 0);
  });

  it('FGSM moves every pixel whose gradient is nonzero, by eps (components of 1e-9 included)', async () => {
    const images = new Float32Array(2 * 16).fill(0.5);
    const adversarial = await craftAdversarial('fgsm', tinyGradientSurrogate(1e-9), {
      images,
      trueLabels: Int32Array.of(0, 1),
      ids: [0, 1],
      eps: 0.1,
      labelSource: 'true',
    });
    adversarial.forEach((v, i) => assert.ok(Math.abs(v - (i % 2 === 0 ? 0.6 : 0.4)) < 1e-6, `pixel ${i}: ${v}`));
  });

  it("DI draws its pad offset in [0, rem), as TransferAttack's and Xie et al.'s torch.randint(0, rem)", () => {
    const offsets = new Map<number, Set<number>>();
    for (let k = 0; k < 3000; k++) {
      const draw = drawDiversity(new Random(7).fork(`di:0:${k}`), 28, 31, 1);
      assert.ok(draw.apply);
      if (!draw.apply) continue;
      const rem = 31 - draw.size;
      assert.ok(draw.size >= 28 && draw.size < 31, `size ${draw.size}`);
      assert.ok(draw.top >= 0 && draw.top < rem && draw.left >= 0 && draw.left < rem, JSON.stringify(draw));
      const seen = offsets.get(rem) ?? new Set<number>();
      seen.add(draw.top);
      offsets.set(rem, seen);
    }
    // Every offset of [0, rem) is drawn for each remainder: the range is not cut short either.
    for (const [rem, seen] of offsets) assert.equal(seen.size, rem, `rem ${rem}: offsets ${[...seen].sort()}`);
  });

  it(
    "PI-FGSM's projected noise gamma is beta times the step, as in the " + "authors' code (eps at 10 steps of eps/10)",
    () => {
      const pi = ATTACKS.get('pi-fgsm');
      const at10 = resolveParams(pi, 0.1);
      assert.ok(Math.abs((at10.projectionFactor as number) - 0.1) < 1e-12, 'eps at the default schedule');
      const at20 = resolveParams(pi, 0.1, { steps: 20 });
      assert.ok(
        Math.abs((at20.projectionFactor as number) - 10 * (0.1 / 20)) < 1e-12,
        `gamma ${at20.projectionFactor as number} at 20 steps`,
      );
    },
  );
});
