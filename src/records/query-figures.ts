import { Random } from '../common/random.js';
import { round6 } from './metrics.js';

/** A figure with a 95% percentile-bootstrap interval over the images. */
export interface Estimate {
  readonly value: number;
  readonly low: number;
  readonly high: number;
}

/** A query cell's figures at one per-image budget b (null where no image was fooled within b). */
export interface QueryFigures {
  /** Mean queries to success over the images fooled within b. */
  readonly meanQueriesSuccessful: Estimate | null;
  /** Median of the same. */
  readonly medianQueriesSuccessful: Estimate | null;
  /**
   * Images fooled within b per query spent on all images (a fooled image spends its queries to success, any other
   * what it was charged up to b): pralab's TransferBench's successes per query (ASPQ).
   */
  readonly successesPerQuery: Estimate;
}

/** Resamples of the bootstrap over images. */
export const BOOTSTRAP_RESAMPLES = 1000;

/**
 * The figures at budget b with intervals from a bootstrap over images (resampled with
 * replacement, seeded, so the same records give the same intervals). `queries[i]` is what
 * image i was charged at the cell's own budget.
 */
export function queryFigures(
  queriesToSuccess: readonly (number | null)[],
  queries: readonly number[],
  budget: number,
  seed: number,
): QueryFigures {
  const n = queriesToSuccess.length;
  const fooled = queriesToSuccess.map((q) => q !== null && q <= budget);
  const spent = queriesToSuccess.map((q, i) => (fooled[i] ? (q as number) : Math.min(queries[i] ?? budget, budget)));
  const figures = (pick: (k: number) => number) => {
    const successes: number[] = [];
    let total = 0;
    for (let k = 0; k < n; k++) {
      const i = pick(k);
      total += spent[i] as number;
      if (fooled[i]) successes.push(queriesToSuccess[i] as number);
    }
    return { successes, perQuery: total > 0 ? successes.length / total : 0 };
  };
  const point = figures((k) => k);
  const random = new Random(seed);
  const means: number[] = [];
  const medians: number[] = [];
  const perQuery: number[] = [];
  for (let r = 0; r < BOOTSTRAP_RESAMPLES && n > 0; r++) {
    const resample = Array.from({ length: n }, () => random.int(n));
    const f = figures((k) => resample[k] as number);
    perQuery.push(f.perQuery);
    if (f.successes.length > 0) {
      means.push(mean(f.successes));
      medians.push(median(f.successes));
    }
  }
  const estimate = (value: number, samples: number[]): Estimate => ({
    value: round6(value),
    low: round6(percentile(samples, 0.025)),
    high: round6(percentile(samples, 0.975)),
  });
  return {
    meanQueriesSuccessful: point.successes.length > 0 ? estimate(mean(point.successes), means) : null,
    medianQueriesSuccessful: point.successes.length > 0 ? estimate(median(point.successes), medians) : null,
    successesPerQuery: estimate(point.perQuery, perQuery),
  };
}

/** A stable bootstrap seed for a record: the first 8 hex digits of its cell id. */
export function figureSeed(cellId: string): number {
  const parsed = Number.parseInt(cellId.slice(0, 8), 16);
  return Number.isFinite(parsed) ? parsed : 0;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The q-quantile by linear interpolation between order statistics (numpy's default). */
function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const at = q * (s.length - 1);
  const lower = Math.floor(at);
  const upper = Math.min(lower + 1, s.length - 1);
  return (s[lower] as number) + (at - lower) * ((s[upper] as number) - (s[lower] as number));
}
