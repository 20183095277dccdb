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
  const half = (Z95 * Math.sqrt((p * (1 - p)) / denominator + z2 / (4 * denominator * denominator))) / (1 + z2 / denominator);
  return { numerator, denominator, value: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Rounds for reports, so equal runs print equal files. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
