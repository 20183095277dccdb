import assert from 'node:assert/strict';
import { STRATEGIES } from '../../src/substitutes/index.js';
import { paramsSchema, resolveStrategyParams, type ParameterSpec } from '../../src/substitutes/params.js';

const SPEC = {
  name: 'demo',
  parameters: [
    { name: 'rounds', type: 'integer', default: 4, minimum: 1, description: 'r' },
    { name: 'eps', type: 'number', default: 0.3, minimum: 0, maximum: 1, description: 'e' },
    { name: 'attack', type: 'string', default: 'fgsm', enum: ['fgsm', 'bim'], description: 'a' },
    { name: 'images', type: 'integer', exclusiveMinimum: 0, description: 'default: all' },
  ] satisfies ParameterSpec[],
};

describe('substitute strategy parameters', () => {
  it('fills in declared defaults and reads given values', () => {
    const p = resolveStrategyParams(SPEC, { rounds: 2 });
    assert.equal(p.number('rounds'), 2);
    assert.equal(p.number('eps'), 0.3);
    assert.equal(p.string('attack'), 'fgsm');
    assert.equal(p.number('images', 99), 99, 'a run-dependent default comes from the caller');
  });

  it('refuses an unknown key, naming the allowed ones', () => {
    assert.throws(
      () => resolveStrategyParams(SPEC, { roundz: 5 }),
      (e: Error & { code?: string }) =>
        e.code === 'BAD_CONFIG' &&
        e.message === 'substitute strategy demo: unknown parameter "roundz"; allowed: rounds, eps, attack, images',
    );
    assert.throws(
      () => resolveStrategyParams({ name: 'bare', parameters: [] }, { x: 1 }),
      /^TransferbenchError: substitute strategy bare: unknown parameter "x"; it takes no parameters$/,
    );
  });

  it('refuses a value of the wrong type or range, naming what is allowed', () => {
    const cases: [Record<string, number | string>, string][] = [
      [{ rounds: 1.5 }, 'rounds: got 1.5, expected an integer >= 1'],
      [{ rounds: 0 }, 'rounds: got 0, expected an integer >= 1'],
      [{ eps: 2 }, 'eps: got 2, expected a number >= 0 and <= 1'],
      [{ eps: '0.1' }, 'eps: got "0.1", expected a number >= 0 and <= 1'],
      [{ attack: 'pgd' }, 'attack: got "pgd", expected one of fgsm, bim'],
      [{ images: 0 }, 'images: got 0, expected an integer > 0'],
    ];
    for (const [params, message] of cases)
      assert.throws(() => resolveStrategyParams(SPEC, params), { message: `substitute strategy demo: ${message}` });
  });

  it('gives every registered strategy a schema of exactly its declared keys, whose defaults pass its own check', () => {
    for (const strategy of STRATEGIES.values()) {
      const schema = paramsSchema(strategy.parameters) as {
        additionalProperties: boolean;
        properties: Record<string, unknown>;
      };
      assert.equal(schema.additionalProperties, false, strategy.name);
      assert.deepEqual(
        Object.keys(schema.properties),
        strategy.parameters.map((p) => p.name),
        strategy.name,
      );
      const defaults = Object.fromEntries(
        strategy.parameters.filter((p) => p.default !== undefined).map((p) => [p.name, p.default as number | string]),
      );
      assert.doesNotThrow(() => resolveStrategyParams(strategy, defaults), strategy.name);
    }
  });
});
