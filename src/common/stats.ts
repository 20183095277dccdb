/** The median of some samples (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const Z975 = 1.959963984540054;

/** Student's t quantiles at 0.975 for 1-10 degrees of freedom (exact to 4 digits). */
const T975 = [12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.306, 2.2622, 2.2281];

/**
 * The 0.975 quantile of Student's t: the table to 10 degrees of freedom, a Cornish-Fisher expansion beyond
 * (< 1e-4).
 */
export function tQuantile975(df: number): number {
  if (!(df >= 1) || !Number.isInteger(df)) throw new RangeError(`t quantile: degrees of freedom ${df}`);
  const exact = T975[df - 1];
  if (exact !== undefined) return exact;
  const z = Z975;
  const z2 = z * z;
  return (
    z +
    (z * (z2 + 1)) / (4 * df) +
    (z * (5 * z2 * z2 + 16 * z2 + 3)) / (96 * df ** 2) +
    (z * (3 * z2 ** 3 + 19 * z2 * z2 + 17 * z2 - 15)) / (384 * df ** 3)
  );
}

/** Wilson's score interval for x of n with quantile q (n and x need not be integers: see clusteredRate). */
export function wilson(x: number, n: number, q = Z975): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const p = x / n;
  const q2 = q * q;
  const centre = (p + q2 / (2 * n)) / (1 + q2 / n);
  const half = (q * Math.sqrt((p * (1 - p)) / n + q2 / (4 * n * n))) / (1 + q2 / n);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** A rate pooled over replicates, with an interval that covers retraining as well as the image sample. */
export interface ClusteredRate {
  readonly value: number;
  readonly low: number;
  readonly high: number;
  readonly replicates: number;
  /** Of the variance of one replicate's rate, the share retraining causes (the rest is the image sample's). */
  readonly retrainingShare: number;
}

/**
 * Two-level 95% interval of a rate pooled over replicates (numerator and denominator per
 * replicate; each replicate retrains its networks and draws its own images): Rao and Scott's
 * (1992, Biometrics 48:577) adjustment for clustered binary data. The pooled rate's variance is
 * the cluster-robust (ratio-estimator) variance over replicates, which holds both the
 * retraining and the image sample; its ratio to the binomial variance is the design effect d,
 * and Wilson's interval is taken on the effective counts x/d of n/d with Student's t quantile on
 * R-1 degrees of freedom (the variance comes from R replicates). A hierarchical bootstrap was
 * the other choice; with the 3-10 replicates a benchmark affords it under-covers (a bootstrap
 * over R clusters sees (R-1)/R of their variance). test/common/stats.test.ts checks coverage
 * on simulated replicates with known variance components. Undefined for fewer than 2 replicates.
 */
export function clusteredRate(
  replicates: readonly { numerator: number; denominator: number }[],
): ClusteredRate | undefined {
  const used = replicates.filter((r) => r.denominator > 0);
  const count = used.length;
  if (count < 2) return undefined;
  const x = used.reduce((s, r) => s + r.numerator, 0);
  const n = used.reduce((s, r) => s + r.denominator, 0);
  const p = x / n;
  const residuals = used.reduce((s, r) => s + (r.numerator - p * r.denominator) ** 2, 0);
  const variance = (count / (count - 1)) * (residuals / (n * n));
  const binomial = (p * (1 - p)) / n;
  // At 0 or 1 every replicate agrees and there is no binomial variance to scale: plain Wilson (with t).
  const design = binomial > 0 ? Math.max(variance / binomial, 1 / n) : 1;
  const { low, high } = wilson(x / design, n / design, tQuantile975(count - 1));
  // One-way analysis of variance of the replicate rates: within from the binomial, between the excess.
  const rates = used.map((r) => r.numerator / r.denominator);
  const mean = rates.reduce((s, v) => s + v, 0) / count;
  const spread = rates.reduce((s, v) => s + (v - mean) ** 2, 0) / (count - 1);
  // Each replicate's binomial variance, unbiased: p_r (1 - p_r) / (n_r - 1).
  const within = rates.reduce((s, v, i) => s + (v * (1 - v)) / Math.max(1, (used[i]?.denominator ?? 2) - 1), 0) / count;
  const between = Math.max(0, spread - within);
  return { value: p, low, high, replicates: count, retrainingShare: spread > 0 ? between / (between + within) : 0 };
}

/** A paired comparison of two successes on the same items: both, only the first, only the second, neither. */
export interface PairedCounts {
  readonly both: number;
  readonly onlyFirst: number;
  readonly onlySecond: number;
  readonly neither: number;
}

/**
 * Newcombe's (1998, Stat Med 17:2635, method 10) 95% interval for the difference of two paired
 * proportions, first minus second: Wilson intervals of each margin combined with the
 * correlation of the pair (phi, corrected towards 0 as Newcombe does). Well behaved for small
 * and extreme counts where the Wald interval is not.
 */
export function newcombePaired(c: PairedCounts): { difference: number; low: number; high: number } {
  const n = c.both + c.onlyFirst + c.onlySecond + c.neither;
  if (n === 0) return { difference: 0, low: -1, high: 1 };
  const first = c.both + c.onlyFirst;
  const second = c.both + c.onlySecond;
  const p1 = first / n;
  const p2 = second / n;
  const w1 = wilson(first, n);
  const w2 = wilson(second, n);
  const margins = first * (n - first) * second * (n - second);
  const cross = c.both * c.neither - c.onlyFirst * c.onlySecond;
  const corrected = cross > n / 2 ? cross - n / 2 : Math.min(cross, 0);
  const phi = margins > 0 ? corrected / Math.sqrt(margins) : 0;
  const difference = p1 - p2;
  const down = Math.sqrt(
    Math.max(0, (p1 - w1.low) ** 2 - 2 * phi * (p1 - w1.low) * (w2.high - p2) + (w2.high - p2) ** 2),
  );
  const up = Math.sqrt(
    Math.max(0, (p2 - w2.low) ** 2 - 2 * phi * (p2 - w2.low) * (w1.high - p1) + (w1.high - p1) ** 2),
  );
  return { difference, low: Math.max(-1, difference - down), high: Math.min(1, difference + up) };
}

/**
 * McNemar's exact test (two-sided): under no difference, the discordant pairs split as
 * Binomial(b + c, 1/2); the p-value doubles the smaller tail. Summed in log space, so it holds
 * for the hundreds of thousands of pairs a large suite pools.
 */
export function mcnemarExact(onlyFirst: number, onlySecond: number): number {
  const n = onlyFirst + onlySecond;
  if (n === 0) return 1;
  const k = Math.min(onlyFirst, onlySecond);
  let log = -n * Math.LN2;
  const terms = [log];
  for (let i = 0; i < k; i++) {
    log += Math.log((n - i) / (i + 1));
    terms.push(log);
  }
  const top = Math.max(...terms);
  const tail = Math.exp(top) * terms.reduce((s, t) => s + Math.exp(t - top), 0);
  return Math.min(1, 2 * tail);
}

/** Holm's (1979) step-down adjustment of p-values, in their given order: controls the family-wise error. */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const adjusted = new Array<number>(m).fill(1);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 digits). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const y = x - 1;
  let sum = c[0] as number;
  for (let i = 1; i < 9; i++) sum += (c[i] as number) / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The regularized incomplete beta function I_x(a, b) (Lentz's continued fraction, as Numerical Recipes' betacf). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x)) / a;
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
  f = d;
  for (let m = 1; m <= 300; m++) {
    for (const numerator of [
      (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)),
      -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)),
    ]) {
      d = 1 + numerator * d;
      d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
      c = 1 + numerator / c;
      c = Math.abs(c) < tiny ? tiny : c;
      f *= c * d;
    }
    if (Math.abs(c * d - 1) < 1e-14) break;
  }
  return front * f;
}

/** Two-sided p-value of Student's t statistic on `df` degrees of freedom. */
export function tTestP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/**
 * A paired difference pooled over replicates, with the replicates as the unit: each replicate's
 * (only first - only second) over its pairs, the cluster-robust variance over replicates (as in
 * clusteredRate), Student's t on R-1 degrees of freedom for the interval and the p-value.
 * Image pairs within a replicate share its networks, so they are not independent across
 * replicates; this is the test that holds when retraining moves the difference. Undefined for
 * fewer than 2 replicates.
 */
export function clusteredDifference(
  replicates: readonly { readonly onlyFirst: number; readonly onlySecond: number; readonly pairs: number }[],
): { difference: number; low: number; high: number; p: number; replicates: number } | undefined {
  const used = replicates.filter((r) => r.pairs > 0);
  const count = used.length;
  if (count < 2) return undefined;
  const pairs = used.reduce((s, r) => s + r.pairs, 0);
  const difference = used.reduce((s, r) => s + r.onlyFirst - r.onlySecond, 0) / pairs;
  const residuals = used.reduce((s, r) => s + (r.onlyFirst - r.onlySecond - difference * r.pairs) ** 2, 0);
  const se = Math.sqrt(((count / (count - 1)) * residuals) / (pairs * pairs));
  const half = tQuantile975(count - 1) * se;
  const p = se > 0 ? tTestP(difference / se, count - 1) : difference === 0 ? 1 : 0;
  return {
    difference,
    low: Math.max(-1, difference - half),
    high: Math.min(1, difference + half),
    p,
    replicates: count,
  };
}
