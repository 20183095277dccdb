import { rate, type Rate } from './metrics.js';
import type { CellResult } from './results.js';

/** How tables and plots name a substitute: strategy, architecture and query budget. */
export function substituteName(r: Pick<CellResult, 'strategy' | 'architecture' | 'budget'>): string {
  return `${r.strategy}/${r.architecture}/${r.budget}`;
}

/** Rates over several cells pooled as one: summed numerators over summed denominators. */
export function pooled(rates: readonly Rate[]): Rate {
  return rate(
    rates.reduce((s, r) => s + r.numerator, 0),
    rates.reduce((s, r) => s + r.denominator, 0),
  );
}

/** Items grouped by a key, groups in the order their first item appears. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
