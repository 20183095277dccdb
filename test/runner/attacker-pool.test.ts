import assert from 'node:assert/strict';
import { attackerPoolSize } from '../../src/runner/group.js';

describe('attacker images an attack learns from', () => {
  const cell = (attack: string, attackParams: Record<string, unknown> = {}, transforms: string[] = []) => ({
    attack,
    transforms,
    eps: 0.3,
    attackParams,
  });

  it("AdvGAN takes its trainImages (default 2,000); every other attack the first 2,000 (Admix's pool)", () => {
    assert.equal(attackerPoolSize(cell('advgan'), 0), 2000);
    assert.equal(attackerPoolSize(cell('advgan', { trainImages: 8000, epochs: 2 }), 0), 8000);
    assert.equal(attackerPoolSize(cell('admix'), 0), 2000);
    assert.equal(attackerPoolSize(cell('mi-fgsm', {}, ['admix']), 0), 2000);
  });

  it('refuses a trainImages that is not a positive integer, naming it', () => {
    assert.throws(
      () => attackerPoolSize(cell('advgan', { trainImages: 0 }), 0),
      /advgan: trainImages: got 0, expected an integer >= 1/,
    );
  });
});
