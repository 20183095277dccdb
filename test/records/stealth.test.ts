import assert from 'node:assert/strict';
import { PSNR_CEILING_DB, psnr, ssim, stealth } from '../../src/records/stealth.js';
import { targetedSuccess } from '../../src/records/targeted.js';

describe('stealth (PSNR, SSIM)', () => {
  const shape: [number, number, number] = [16, 16, 3];
  const size = 16 * 16 * 3;
  const textured = Float32Array.from({ length: size }, (_, i) => 0.5 + 0.4 * Math.sin(i * 0.37));

  it('PSNR: 10 log10(1 / d^2) for a uniform change d; the ceiling for an unchanged image', () => {
    const moved = textured.map((v) => v + 0.01);
    assert.ok(Math.abs(psnr(textured, moved) - 40) < 1e-3);
    assert.equal(psnr(textured, textured), PSNR_CEILING_DB);
  });

  it('SSIM: 1 for an unchanged image, the closed form (2ab + C1) / (a^2 + b^2 + C1) for two flat images', () => {
    assert.ok(Math.abs(ssim(textured, textured, shape) - 1) < 1e-12);
    const a = new Float32Array(size).fill(0.5);
    const b = new Float32Array(size).fill(0.25);
    const c1 = 0.0001;
    const expected = (2 * 0.5 * 0.25 + c1) / (0.25 + 0.0625 + c1);
    assert.ok(Math.abs(ssim(a, b, shape) - expected) < 1e-6);
  });

  it('SSIM falls as noise grows and is symmetric', () => {
    const noisy = (amount: number) => textured.map((v, i) => v + amount * Math.sin(i * 12.9898));
    const small = ssim(textured, noisy(0.02), shape);
    const large = ssim(textured, noisy(0.1), shape);
    assert.ok(small < 1 && large < small, `${small} ${large}`);
    assert.ok(Math.abs(ssim(noisy(0.1), textured, shape) - large) < 1e-12);
  });

  it('stealth: the means over a batch', () => {
    const batch = new Float32Array(2 * size);
    batch.set(textured, 0);
    batch.set(textured, size);
    const adversarial = Float32Array.from(batch);
    for (let i = size; i < 2 * size; i++) adversarial[i] = (adversarial[i] as number) + 0.01;
    const { meanPsnr, meanSsim } = stealth(batch, adversarial, shape);
    assert.ok(Math.abs(meanPsnr - (PSNR_CEILING_DB + 40) / 2) < 1e-3);
    assert.ok(Math.abs(meanSsim - (1 + ssim(textured, adversarial.subarray(size), shape)) / 2) < 1e-12);
  });
});

describe('targetedSuccess', () => {
  it('counts hits of the target class among the images the target got right when clean', () => {
    const truth = Int32Array.from([0, 1, 2, 3, 4]);
    const clean = Int32Array.from([0, 1, 2, 0, 4]);
    const adversarial = Int32Array.from([2, 3, 1, 4, 4]);
    const targets = Int32Array.from([2, 4, 1, 4, 0]);
    const r = targetedSuccess(truth, clean, adversarial, targets);
    // Image 3 was wrong when clean; 0 and 2 hit; 1 was fooled, but not into its target; 4 was not fooled.
    assert.equal(r.numerator, 2);
    assert.equal(r.denominator, 4);
  });
});
