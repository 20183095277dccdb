import { rate, type Rate } from './metrics.js';

/**
 * Targeted success (TransferAttack's targeted protocol, counted like `attackSuccess`): of the images the target
 * classifies correctly when clean, the share it classifies as their target class after the attack. Misclassified
 * but not as the target counts as a failure: only hitting the class is a targeted success.
 */
export function targetedSuccess(
  truth: Int32Array,
  cleanOnTarget: Int32Array,
  adversarialOnTarget: Int32Array,
  targetClasses: Int32Array,
): Rate {
  let correct = 0;
  let hits = 0;
  for (let i = 0; i < truth.length; i++) {
    if (cleanOnTarget[i] !== truth[i]) continue;
    correct++;
    if (adversarialOnTarget[i] === targetClasses[i]) hits++;
  }
  return rate(hits, correct);
}
