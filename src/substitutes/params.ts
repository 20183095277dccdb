import { badOption } from '../common/errors.js';

type Params = Readonly<Record<string, number | string>>;

/** A numeric strategy parameter with its default, checked once here. */
export function numberParam(strategy: string, params: Params, name: string, fallback: number, check: (v: number) => boolean = () => true, allowed = 'a number'): number {
  const value = params[name] ?? fallback;
  if (typeof value !== 'number' || !check(value)) throw badOption(`${strategy}: ${name}`, value, allowed);
  return value;
}

export function stringParam(strategy: string, params: Params, name: string, fallback: string): string {
  const value = params[name] ?? fallback;
  if (typeof value !== 'string') throw badOption(`${strategy}: ${name}`, value, 'a string');
  return value;
}

export const positiveInteger = (v: number) => Number.isInteger(v) && v >= 1;
