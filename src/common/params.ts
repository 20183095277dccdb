import { badOption } from './errors.js';

/**
 * The one parameter system: attacks, transformations, substitute strategies and query attacks each
 * declare their parameters beside themselves with `param`; `resolveParams` checks and fills them,
 * `paramsSchema` writes their part of the suite schema and `describeParam` their line in `list` and docs.
 */
export type ParamValue = number | string | boolean;

/** What has been resolved so far, or what is being read: values by parameter name. */
export type ParamValues = Readonly<Record<string, ParamValue>>;

/** The range of a parameter, in JSON-Schema terms (the suite schema uses it as is, `odd` aside). */
export interface ParamRange {
  readonly type: 'integer' | 'number' | 'boolean' | 'string';
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly string[];
  /** Integers only: must be odd (kernel sizes). */
  readonly odd?: boolean;
}

/** The value type a range admits: the enum's strings, any string, a boolean or a number. */
export type ValueOf<R extends ParamRange> = R['type'] extends infer T
  ? T extends 'boolean'
    ? boolean
    : T extends 'string'
      ? R['enum'] extends readonly (infer E extends string)[]
        ? E
        : string
      : number
  : never;

/**
 * One parameter, declared once. `C` is what its default may use: eps and the parameters declared
 * before it (attacks), the norm, eps and image shape (query attacks), nothing (strategies).
 */
export interface Param<N extends string = string, R extends ParamRange = ParamRange, C = ParamValues> {
  readonly name: N;
  readonly range: R;
  readonly description: string;
  /** A value, or a function of the context; absent when the run decides (the description says how). */
  readonly default?: ValueOf<R> | ((context: C) => ValueOf<R>);
  /** The default as documentation shows it ("2.5*eps/steps"); the value itself when omitted. */
  readonly defaultText?: string;
  /** Set by the harness (a seed, targeted), never by a suite: left out of the schema, `list` and labels. */
  readonly internal?: boolean;
  /** Strategies: it changes only how attacks read the network, so caches of the network ignore it. */
  readonly attackOnly?: boolean;
}

/** Any parameter, whatever its default reads (what registries and the generators take). */
// biome-ignore lint/suspicious/noExplicitAny: the context of a default is contravariant; readers never call it
export type AnyParam = Param<string, ParamRange, any>;

/** Declares a parameter; the literal name and range give typed reading through `ParamsOf`. */
export function param<const N extends string, const R extends ParamRange, C = ParamValues>(
  declaration: Param<N, R, C>,
): Param<N, R, C> {
  return declaration;
}

/** The values a list of declarations resolves to, typed by name. */
export type ParamsOf<L extends readonly AnyParam[]> = {
  readonly [P in L[number] as P['name']]: ValueOf<P['range']>;
};

/** Whether a value lies in a parameter's range. */
export function inRange(value: unknown, range: ParamRange): boolean {
  switch (range.type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string' && (range.enum === undefined || range.enum.includes(value));
    default: {
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      if (range.type === 'integer' && !Number.isInteger(value)) return false;
      if (range.odd && value % 2 !== 1) return false;
      if (range.minimum !== undefined && value < range.minimum) return false;
      if (range.maximum !== undefined && value > range.maximum) return false;
      return range.exclusiveMinimum === undefined || value > range.exclusiveMinimum;
    }
  }
}

/** A range in words, for error messages, `list` and docs: "an integer >= 1", "linf or l2". */
export function describeRange(range: ParamRange): string {
  if (range.type === 'boolean') return 'true or false';
  if (range.type === 'string') return range.enum ? range.enum.join(' or ') : 'a string';
  const kind = range.type === 'integer' ? (range.odd ? 'an odd integer' : 'an integer') : 'a number';
  const bounds = [
    range.minimum !== undefined ? `>= ${range.minimum}` : undefined,
    range.exclusiveMinimum !== undefined ? `> ${range.exclusiveMinimum}` : undefined,
    range.maximum !== undefined ? `<= ${range.maximum}` : undefined,
  ].filter((b) => b !== undefined);
  return bounds.length > 0 ? `${kind} ${bounds.join(' and ')}` : kind;
}

/** The default as documentation shows it, given a context for a computed one (its text otherwise). */
export function defaultText<C>(p: Param<string, ParamRange, C>, context?: C): string | undefined {
  if (p.defaultText !== undefined) return p.defaultText;
  if (typeof p.default === 'function') return context === undefined ? undefined : String(p.default(context));
  return p.default === undefined ? undefined : String(p.default);
}

/** One parameter as `list` and docs show it: name, default, range, description. */
export interface ParamLine {
  readonly name: string;
  readonly default: string | undefined;
  readonly range: string;
  readonly description: string;
}

export function describeParams<C>(params: readonly Param<string, ParamRange, C>[], context?: C): ParamLine[] {
  return params
    .filter((p) => !p.internal)
    .map((p) => ({
      name: p.name,
      default: defaultText(p, context),
      range: describeRange(p.range),
      description: p.description,
    }));
}

/** The JSON Schema of one parameter. */
export function paramSchema(p: AnyParam): Record<string, unknown> {
  const r = p.range;
  return {
    type: r.type,
    ...(r.minimum !== undefined ? { minimum: r.minimum } : {}),
    ...(r.exclusiveMinimum !== undefined ? { exclusiveMinimum: r.exclusiveMinimum } : {}),
    ...(r.maximum !== undefined ? { maximum: r.maximum } : {}),
    ...(r.enum !== undefined ? { enum: [...r.enum] } : {}),
    description: p.description,
  };
}

/** The JSON Schema of a `params` object: the declared keys (internal ones aside) and nothing else. */
export function paramsSchema(params: readonly AnyParam[]): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties: paramProperties(params) };
}

/**
 * The schema properties of declarations: shared names share a range, and a name declared by several owners shows
 * the description most of them give (the first such, in declaration order), so one attack's own wording does not
 * speak for all of them.
 */
export function paramProperties(params: readonly AnyParam[]): Record<string, Record<string, unknown>> {
  const byName = new Map<string, AnyParam[]>();
  for (const p of params) if (!p.internal) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const properties: Record<string, Record<string, unknown>> = {};
  for (const [name, declared] of byName) {
    const votes = new Map<string, number>();
    for (const p of declared) votes.set(p.description, (votes.get(p.description) ?? 0) + 1);
    const top = Math.max(...votes.values());
    properties[name] = paramSchema(declared.find((p) => votes.get(p.description) === top) as AnyParam);
  }
  return properties;
}

/**
 * Resolves declared parameters: each takes its override or its default, in declaration order (a
 * default computed from `context`, which is the values resolved so far when not given, so a default
 * may use the parameters before it), and must lie in its range. A key nobody declared is an error
 * naming the ones that are. `initial` values (eps) come first and are not checked here.
 */
export function resolveParams<C = ParamValues>(
  owner: string,
  params: readonly Param<string, ParamRange, C>[],
  overrides: Readonly<Record<string, unknown>>,
  options: { readonly initial?: ParamValues; readonly context?: C } = {},
): Record<string, ParamValue> {
  const declared = new Set(params.map((p) => p.name));
  for (const key of Object.keys(overrides)) {
    if (declared.has(key)) continue;
    const allowed = params.filter((p) => !p.internal).map((p) => p.name);
    throw badOption(
      `${owner}: parameter "${key}"`,
      overrides[key],
      allowed.length > 0 ? `one of the parameters it takes: ${allowed.join(', ')}` : 'no parameter (it takes none)',
    );
  }
  const resolved: Record<string, ParamValue> = { ...options.initial };
  for (const p of params) {
    const given = overrides[p.name];
    const fallback = p.default;
    const value =
      given !== undefined
        ? given
        : typeof fallback === 'function'
          ? fallback(options.context ?? (resolved as C))
          : fallback;
    if (value === undefined) continue;
    if (!inRange(value, p.range)) throw badOption(`${owner}: ${p.name}`, value, describeRange(p.range));
    resolved[p.name] = value as ParamValue;
  }
  return resolved;
}

/** Ranges many parameters share. */
export const POSITIVE_INTEGER = { type: 'integer', minimum: 1 } as const;
export const NON_NEGATIVE = { type: 'number', minimum: 0 } as const;
export const POSITIVE = { type: 'number', exclusiveMinimum: 0 } as const;
export const BOOLEAN = { type: 'boolean' } as const;
export const ANY_STRING = { type: 'string' } as const;

/** A resolved number read by a caller that does not know the declaration's type (the runner's cost model). */
export function numberOf(values: ParamValues, name: string, fallback: number): number {
  const value = values[name];
  return typeof value === 'number' ? value : fallback;
}

/** A default that is a value, not computed from a context (strategies'); undefined otherwise. */
export function fixedDefault(p: AnyParam): ParamValue | undefined {
  return typeof p.default === 'function' ? undefined : p.default;
}
