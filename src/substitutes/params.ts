import { type AnyParam, resolveParams } from '../common/params.js';

/** Raw strategy parameters as a suite or a caller gives them. */
export type StrategyParams = Readonly<Record<string, number | string>>;

/** A strategy's resolved parameters, read by name and type (a misread name or type is a bug, so it throws). */
export class ResolvedParams {
  constructor(
    private readonly strategy: string,
    private readonly values: Readonly<Record<string, number | string | boolean | undefined>>,
  ) {}

  number(name: string): number;
  number(name: string, fallback: number): number;
  number(name: string, fallback?: number): number {
    const value = this.values[name] ?? fallback;
    if (typeof value !== 'number') throw new TypeError(`${this.strategy}: parameter ${name} is not a declared number`);
    return value;
  }

  string(name: string): string {
    const value = this.values[name];
    if (typeof value !== 'string') throw new TypeError(`${this.strategy}: parameter ${name} is not a declared string`);
    return value;
  }
}

/**
 * Checks parameters against a strategy's declarations with the one resolver (src/common/params.ts): an unknown key
 * names the allowed ones, a wrong value names the key and its range. Suites are checked by the schema first; this is
 * the same check for callers of the library.
 */
export function resolveStrategyParams(
  strategy: { name: string; parameters: readonly AnyParam[] },
  params: StrategyParams,
): ResolvedParams {
  return new ResolvedParams(
    strategy.name,
    resolveParams(`substitute strategy ${strategy.name}`, strategy.parameters, params),
  );
}
