import assert from 'node:assert/strict';
import { ATTACKS, resolveParams, TRANSFORMS, attackFor } from '../../src/attacks/index.js';
import { paramSchema } from '../../src/common/params.js';
import { suiteSchema } from '../../src/runner/suite.js';

describe('attack parameter specs', () => {
  it("PGD's step follows steps: 2.5*eps/steps, also when a suite sets steps", () => {
    assert.equal(resolveParams(ATTACKS.get('pgd'), 0.1).stepSize, (2.5 * 0.1) / 10);
    const forty = resolveParams(ATTACKS.get('pgd'), 0.1, { steps: 40 });
    assert.equal(forty.steps, 40);
    assert.equal(forty.stepSize, (2.5 * 0.1) / 40);
  });

  it("MI-FGSM's (and NI-, VMI-FGSM's) step follows steps: eps/steps", () => {
    for (const name of ['mi-fgsm', 'ni-fgsm', 'vmi-fgsm', 'i-fgsm', 'di-mi-fgsm']) {
      assert.equal(resolveParams(ATTACKS.get(name), 0.2).stepSize, 0.2 / 10, name);
      assert.equal(resolveParams(ATTACKS.get(name), 0.2, { steps: 40 }).stepSize, 0.2 / 40, name);
    }
  });

  it('an explicit step size wins over the default computed from steps', () => {
    assert.equal(resolveParams(ATTACKS.get('pgd'), 0.1, { steps: 40, stepSize: 0.01 }).stepSize, 0.01);
  });

  it("BIM's step count follows eps (Kurakin et al.) and its step stays 1/255", () => {
    const p = resolveParams(ATTACKS.get('bim'), 0.1);
    assert.equal(p.steps, Math.round(Math.min(0.1 * 255 + 4, 1.25 * 0.1 * 255)));
    assert.equal(p.stepSize, 1 / 255);
  });

  it("a composition takes its method's parameters and its transformations', with their defaults", () => {
    const p = resolveParams(attackFor('mi-fgsm', ['di', 'ti', 'admix']), 16 / 255);
    assert.deepEqual(
      [p.steps, p.decay, p.resizeRate, p.diversityProb, p.kernelSize, p.admixCopies, p.admixStrength, p.scaleCopies],
      [10, 1, 1.1, 0.5, 5, 3, 0.2, 5],
    );
  });

  it('every declared parameter is in the suite schema as the one generator writes it, one range per name', () => {
    const schemaParams = (suiteSchema().properties as Record<string, any>).attacks.items.properties.params
      .properties as Record<string, unknown>;
    for (const owner of [...ATTACKS.values(), ...TRANSFORMS.values()]) {
      for (const spec of owner.parameters) {
        assert.ok(spec.name in schemaParams, `${owner.name}.${spec.name} missing from the schema`);
        const { description: _, ...range } = paramSchema(spec);
        const { description: __, ...inSchema } = schemaParams[spec.name] as Record<string, unknown>;
        assert.deepEqual(range, inSchema, `${owner.name}.${spec.name}: a range of its own`);
      }
    }
    // Resolving with defaults checks every default against its range.
    for (const attack of ATTACKS.values()) for (const eps of [0, 0.1, 1]) resolveParams(attack, eps);
  });
});
