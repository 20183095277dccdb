import { stringify } from 'csv-stringify/sync';
import type { Rate } from '../records/metrics.js';
import { round6 } from '../records/metrics.js';

/** A CSV table as data: column names and rows of numbers and strings. */
export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (number | string | boolean)[])[];
}

/** A rate as five columns: value, numerator, denominator, Wilson 95% low and high. */
export function rateColumns(prefix: string): string[] {
  return [prefix, `${prefix}_num`, `${prefix}_den`, `${prefix}_ci_low`, `${prefix}_ci_high`];
}
export function rateCells(r: Rate): number[] {
  return [round6(r.value), r.numerator, r.denominator, round6(r.low), round6(r.high)];
}
/** A rate a record may lack (results written before it existed): empty cells then. */
export function optionalRateCells(r: Rate | undefined): (number | string)[] {
  return r === undefined ? ['', '', '', '', ''] : rateCells(r);
}

const CSV_OPTIONS = {
  cast: {
    boolean: (v: boolean) => (v ? 'true' : 'false'),
    string: (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v),
  },
};

/** CSV bytes: a header, numbers as numbers, text that could be read as a formula escaped. */
export function toCsv(table: Table): string {
  return csvLines([table.columns, ...table.rows]);
}

/** CSV lines exactly as toCsv writes them, for writing a long table a batch of rows at a time. */
export function csvLines(rows: readonly (readonly (number | string | boolean)[])[]): string {
  return stringify(rows as (number | string | boolean)[][], CSV_OPTIONS);
}
