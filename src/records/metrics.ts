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

/**
 * Per-image flags as one hexadecimal number, image i at bit i: "0x" and ceil(n/4) digits, most significant first.
 * Compact (a 1,000-image cell is 252 characters), exact, and read back in one call in Python (`int(s, 16) >> i & 1`);
 * the "0x" keeps pandas from reading a column of short ones as numbers. Paired comparisons read cells' flags by image.
 */
export function flagsHex(flags: ArrayLike<boolean>): string {
  const digits = Math.max(1, Math.ceil(flags.length / 4));
  const nibbles = new Uint8Array(digits);
  for (let i = 0; i < flags.length; i++) {
    const at = digits - 1 - (i >> 2);
    if (flags[i]) nibbles[at] = (nibbles[at] as number) | (1 << (i & 3));
  }
  return `0x${Array.from(nibbles, (v) => v.toString(16)).join('')}`;
}

/** The flags of `n` images back from flagsHex's text (1 where set). */
export function hexFlags(hex: string, n: number): Uint8Array {
  const flags = new Uint8Array(n);
  const digits = hex.length - 2;
  if (!hex.startsWith('0x') || digits < Math.ceil(n / 4))
    throw new RangeError(`per-image flags "${hex.slice(0, 20)}" do not hold ${n} images`);
  for (let i = 0; i < n; i++) {
    const nibble = Number.parseInt(hex[hex.length - 1 - (i >> 2)] as string, 16);
    flags[i] = (nibble >> (i & 3)) & 1;
  }
  return flags;
}

/** Which images fooled the target and which the substitute (wrong answers against the truth), as flagsHex text. */
export function fooledFlags(
  truth: Int32Array,
  adversarial: { readonly substitute: Int32Array; readonly target: Int32Array },
): { targetFooled: string; substituteFooled: string } {
  const wrong = (predicted: Int32Array) => Array.from(truth, (label, i) => predicted[i] !== label);
  return {
    targetFooled: flagsHex(wrong(adversarial.target)),
    substituteFooled: flagsHex(wrong(adversarial.substitute)),
  };
}
