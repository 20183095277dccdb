import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type Schema } from 'ajv';
import { TransferbenchError } from './errors.js';

// verbose: errors carry their schema, so an unknown key can be answered with the allowed ones.
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
const compiled = new WeakMap<object, ReturnType<Ajv['compile']>>();

/** JSON path as a reader writes it: `attacks[1].eps`, or `(top level)`. */
function readablePath(instancePath: string): string {
  if (instancePath === '') return '(top level)';
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === '' ? part : `${path}.${part}`), '');
}

function found(data: unknown, instancePath: string): string {
  let value: unknown = data;
  for (const part of instancePath.split('/').slice(1)) value = (value as Record<string, unknown> | undefined)?.[part];
  const text = JSON.stringify(value);
  return text === undefined ? 'nothing' : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** One line per problem: the key, what was found, what is allowed. */
export function describeError(error: ErrorObject, data: unknown): string {
  const path = readablePath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${path === '(top level)' ? '' : `${path}.`}${String(params.missingProperty)} is missing`;
    case 'additionalProperties': {
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const hint = allowed.length > 0 ? `allowed keys: ${allowed.join(', ')}` : 'no keys are allowed here';
      return `${path}: unknown key "${String(params.additionalProperty)}"; ${hint}`;
    }
    case 'enum':
      return (
        `${path} is ${found(data, error.instancePath)}; allowed: ` +
        `${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
      );
    case 'anyOf': {
      const description = (error.parentSchema as { description?: string } | undefined)?.description;
      if (description !== undefined) return `${path} is ${found(data, error.instancePath)}; expected ${description}`;
      return `${path} ${error.message ?? 'is invalid'} (found ${found(data, error.instancePath)})`;
    }
    default:
      return `${path} ${error.message ?? 'is invalid'} (found ${found(data, error.instancePath)})`;
  }
}

/**
 * Checks `data` against a JSON Schema with every error reported, each naming the key and what
 * would fix it. The rest of the code trusts what this returns.
 */
export function validateWith<T>(schema: Schema & object, data: unknown, source: string): T {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (!validate(data)) {
    const errors = validate.errors ?? [];
    // An anyOf answers for its branches in one line: what each branch alone disliked is noise.
    const choices = errors.filter((e) => e.keyword === 'anyOf');
    const branch = (e: ErrorObject) =>
      choices.some((c) => c !== e && c.instancePath === e.instancePath && e.schemaPath.startsWith(`${c.schemaPath}/`));
    const lines = errors
      .filter((e) => e.keyword !== 'if' && !branch(e))
      .map((e) => `${source}: ${describeError(e, data)}`);
    throw new TransferbenchError('BAD_CONFIG', [...new Set(lines)].join('\n'));
  }
  return data as T;
}

/** Reads a JSON configuration file; a missing file or bad JSON is an error naming the file. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${path}: cannot read ${what} (${(error as { code?: string }).code ?? (error as Error).message}); check the path`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TransferbenchError('BAD_CONFIG', `${path}: not valid JSON (${(error as Error).message})`);
  }
}
