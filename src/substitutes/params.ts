import { TransferbenchError } from '../common/errors.js';

/** Raw strategy parameters as a suite or a caller gives them. */
export type StrategyParams = Readonly<Record<string, number | string>>;

export const PARAMETER_TYPES = ['integer', 'number', 'string'] as const;

/**
 * One parameter of a substitute strategy, declared once: `list substitutes` prints it, the suite
 * schema checks it (bench/suite.schema.json), and `resolveStrategyParams` fills in its default.
 */
export interface ParameterSpec {
  readonly name: string;
  readonly type: (typeof PARAMETER_TYPES)[number];
  /** Absent when the default depends on the run (the description says what it is). */
  readonly default?: number | string;
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
  /** The allowed strings of a string parameter. */
  readonly enum?: readonly string[];
  readonly description: string;
  /**
   * It changes only how attacks read the trained network (the strategy's `surrogateOf`), not the network: left out of
   * the cache key, so changing it reuses the cached substitute.
   */
  readonly attackOnly?: boolean;
}

/** The JSON Schema of one strategy's `params` object: its declared keys and nothing else. */
export function paramsSchema(specs: readonly ParameterSpec[]): Record<string, unknown> {
  const properties = Object.fromEntries(
    specs.map((p) => [
      p.name,
      {
        type: p.type,
        ...(p.minimum !== undefined ? { minimum: p.minimum } : {}),
        ...(p.exclusiveMinimum !== undefined ? { exclusiveMinimum: p.exclusiveMinimum } : {}),
        ...(p.maximum !== undefined ? { maximum: p.maximum } : {}),
        ...(p.enum !== undefined ? { enum: [...p.enum] } : {}),
        description: p.description,
      },
    ]),
  );
  return { type: 'object', additionalProperties: false, properties };
}

/** What a value must be, in words, for error messages. */
export function allowedText(p: ParameterSpec): string {
  if (p.enum !== undefined) return `one of ${p.enum.join(', ')}`;
  const kind = p.type === 'integer' ? 'an integer' : p.type === 'number' ? 'a number' : 'a string';
  const bounds = [
    p.minimum !== undefined ? `>= ${p.minimum}` : '',
    p.exclusiveMinimum !== undefined ? `> ${p.exclusiveMinimum}` : '',
    p.maximum !== undefined ? `<= ${p.maximum}` : '',
  ].filter((b) => b !== '');
  return bounds.length > 0 ? `${kind} ${bounds.join(' and ')}` : kind;
}

function fits(p: ParameterSpec, value: number | string): boolean {
  if (p.type === 'string') return typeof value === 'string' && (p.enum === undefined || p.enum.includes(value));
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (p.type === 'integer' && !Number.isInteger(value)) return false;
  return (
    (p.minimum === undefined || value >= p.minimum) &&
    (p.exclusiveMinimum === undefined || value > p.exclusiveMinimum) &&
    (p.maximum === undefined || value <= p.maximum)
  );
}

/** A strategy's parameters checked against its declaration, defaults filled in; read with `number` and `string`. */
export class ResolvedParams {
  constructor(
    private readonly strategy: string,
    private readonly values: Readonly<Record<string, number | string | undefined>>,
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
 * Checks parameters against a strategy's declaration: an unknown key names the allowed ones, a
 * wrong value names the key and what is allowed. Suites are checked by the schema first; this is
 * the same check for callers of the library.
 */
export function resolveStrategyParams(
  strategy: { name: string; parameters: readonly ParameterSpec[] },
  params: StrategyParams,
): ResolvedParams {
  const known = new Map(strategy.parameters.map((p) => [p.name, p]));
  for (const key of Object.keys(params)) {
    if (!known.has(key)) {
      const allowed =
        strategy.parameters.length > 0 ? `allowed: ${[...known.keys()].join(', ')}` : 'it takes no parameters';
      throw new TransferbenchError(
        'BAD_CONFIG',
        `substitute strategy ${strategy.name}: unknown parameter "${key}"; ${allowed}`,
      );
    }
  }
  const values: Record<string, number | string | undefined> = {};
  for (const p of strategy.parameters) {
    const value = params[p.name] ?? p.default;
    if (value !== undefined && !fits(p, value)) {
      throw new TransferbenchError(
        'BAD_CONFIG',
        `substitute strategy ${strategy.name}: ${p.name}: got ${JSON.stringify(value)}, expected ${allowedText(p)}`,
      );
    }
    values[p.name] = value;
  }
  return new ResolvedParams(strategy.name, values);
}
