import { rate, type Rate } from '../records/metrics.js';

/** A pooled rate as running sums. */
export class Pool {
  numerator = 0;
  denominator = 0;
  add(r: Rate): void {
    this.numerator += r.numerator;
    this.denominator += r.denominator;
  }
  rate(): Rate {
    return rate(this.numerator, this.denominator);
  }
}

/** The entry of `key`, made by `make` the first time: groups keep the order their first record came in. */
export function entry<T>(map: Map<string, T>, key: string, make: () => T): T {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
