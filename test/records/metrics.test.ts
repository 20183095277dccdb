import assert from 'node:assert/strict';
import { countOutcomes, flagsHex, fooledFlags, hexFlags, rate } from '../../src/records/metrics.js';

describe('countOutcomes', () => {
  // Truth 0..5; the target gets images 0-3 right when clean, the substitute 0-4.
  const truth = Int32Array.from([0, 1, 2, 3, 4, 5]);
  const clean = { substitute: Int32Array.from([0, 1, 2, 3, 4, 0]), target: Int32Array.from([0, 1, 2, 3, 0, 0]) };
  // After the attack: the substitute is fooled on 0, 1, 4; the target on 0, 2, 4, 5.
  const adversarial = { substitute: Int32Array.from([9, 9, 2, 3, 9, 5]), target: Int32Array.from([9, 1, 9, 3, 9, 9]) };
  const outcomes = countOutcomes(truth, clean, adversarial);

  it('counts errors on all images, and the transfer rate over the images that fool the substitute', () => {
    assert.deepEqual(outcomes.targetError, rate(4, 6));
    assert.deepEqual(outcomes.whiteBoxSuccess, rate(3, 6));
    assert.deepEqual(outcomes.transferRate, rate(2, 3));
    assert.deepEqual(outcomes.targetCleanAccuracy, rate(4, 6));
    assert.deepEqual(outcomes.substituteCleanAccuracy, rate(5, 6));
  });

  it('counts the attack success rate only over images the target classifies correctly when clean', () => {
    // Of images 0-3 (clean-correct), the target errs on 0 and 2 after the attack; 4 and 5 were wrong already.
    assert.deepEqual(outcomes.attackSuccess, rate(2, 4));
    assert.ok(
      outcomes.attackSuccess.low < 0.5 && outcomes.attackSuccess.high > 0.5,
      'Wilson interval around the value',
    );
  });
});

describe('per-image flags', () => {
  it('writes image i at bit i of one hex number, and reads every length back', () => {
    assert.equal(flagsHex([true, false, false, false, true]), '0x11');
    assert.equal(flagsHex([false, true, true, true]), '0xe');
    assert.equal(flagsHex([]), '0x0');
    // As Python would read it: int(s, 16) >> i & 1.
    const flags = Array.from({ length: 203 }, (_, i) => (i * 7919) % 3 === 0);
    const hex = flagsHex(flags);
    const value = BigInt(hex);
    assert.deepEqual(
      flags.map((_, i) => Number((value >> BigInt(i)) & 1n) === 1),
      flags,
    );
    assert.deepEqual(
      Array.from(hexFlags(hex, 203), (f) => f === 1),
      flags,
    );
    assert.throws(() => hexFlags('0x1', 5), /do not hold 5 images/);
  });

  it('marks the images that fool the target and the substitute', () => {
    const truth = Int32Array.from([0, 1, 2, 3]);
    const flags = fooledFlags(truth, {
      substitute: Int32Array.from([9, 1, 9, 3]),
      target: Int32Array.from([0, 9, 9, 9]),
    });
    assert.deepEqual(flags, { targetFooled: '0xe', substituteFooled: '0x5' });
  });
});
