/** A rate with everything needed to judge it: numerator, denominator and a 95% interval. */
export interface Rate {
  readonly numerator: number;
  readonly denominator: number;
  /** numerator / denominator; 0 when the denominator is 0. */
  readonly value: number;
  /** Wilson score interval at 95%. */
  readonly low: number;
  readonly high: number;
}

const Z95 = 1.959963984540054;

/** Wilson score interval (Wilson 1927): well behaved near 0 and 1 and for small n. */
export function rate(numerator: number, denominator: number): Rate {
  if (denominator === 0) return { numerator, denominator, value: 0, low: 0, high: 1 };
  const p = numerator / denominator;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * denominator)) / (1 + z2 / denominator);
  const half =
    (Z95 * Math.sqrt((p * (1 - p)) / denominator + z2 / (4 * denominator * denominator))) / (1 + z2 / denominator);
  return { numerator, denominator, value: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Rounds for reports, so equal runs print equal files. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** How one cell's images fared: every rate the results record, from the per-image predictions. */
export interface Outcomes {
  readonly substituteCleanAccuracy: Rate;
  readonly targetCleanAccuracy: Rate;
  /** Adversarial images the substitute misclassifies. */
  readonly whiteBoxSuccess: Rate;
  /** Adversarial images the target misclassifies. */
  readonly targetError: Rate;
  /** Kurakin et al.: of the images that fool the substitute, those that also fool the target. */
  readonly transferRate: Rate;
  /**
   * Of the images the target classifies correctly when clean, those it misclassifies after the attack (TransferAttack's
   * attack success rate).
   */
  readonly attackSuccess: Rate;
}

/** Counts the outcomes of one cell against the truth. */
export function countOutcomes(
  truth: Int32Array,
  clean: { readonly substitute: Int32Array; readonly target: Int32Array },
  adversarial: { readonly substitute: Int32Array; readonly target: Int32Array },
): Outcomes {
  const n = truth.length;
  let substituteCorrect = 0;
  let targetCorrect = 0;
  let fooledSubstitute = 0;
  let fooledTarget = 0;
  let fooledBoth = 0;
  let fooledWhenCorrect = 0;
  for (let i = 0; i < n; i++) {
    const label = truth[i];
    const correct = clean.target[i] === label;
    if (clean.substitute[i] === label) substituteCorrect++;
    if (correct) targetCorrect++;
    const s = adversarial.substitute[i] !== label;
    const t = adversarial.target[i] !== label;
    if (s) fooledSubstitute++;
    if (t) fooledTarget++;
    if (s && t) fooledBoth++;
    if (correct && t) fooledWhenCorrect++;
  }
  return {
    substituteCleanAccuracy: rate(substituteCorrect, n),
    targetCleanAccuracy: rate(targetCorrect, n),
    whiteBoxSuccess: rate(fooledSubstitute, n),
    targetError: rate(fooledTarget, n),
    transferRate: rate(fooledBoth, fooledSubstitute),
    attackSuccess: rate(fooledWhenCorrect, targetCorrect),
  };
}
