import assert from 'node:assert/strict';
import { STRATEGIES } from '../../src/substitutes/index.js';
import { type AnyParam, fixedDefault, paramsSchema } from '../../src/common/params.js';
import { resolveStrategyParams } from '../../src/substitutes/params.js';

const SPEC = {
  name: 'demo',
  parameters: [
    { name: 'rounds', range: { type: 'integer', minimum: 1 }, default: 4, description: 'r' },
    { name: 'eps', range: { type: 'number', minimum: 0, maximum: 1 }, default: 0.3, description: 'e' },
    { name: 'attack', range: { type: 'string', enum: ['fgsm', 'bim'] }, default: 'fgsm', description: 'a' },
    { name: 'images', range: { type: 'integer', exclusiveMinimum: 0 }, description: 'default: all' },
  ] as const satisfies readonly AnyParam[],
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
        e.code === 'BAD_OPTION' &&
        e.message ===
          'substitute strategy demo: parameter "roundz": got 5, expected one of the parameters it takes: ' +
            'rounds, eps, attack, images',
    );
    assert.throws(
      () => resolveStrategyParams({ name: 'bare', parameters: [] }, { x: 1 }),
      /^TransferbenchError: substitute strategy bare: parameter "x": got 1, expected no parameter \(it takes none\)$/,
    );
  });

  it('refuses a value of the wrong type or range, naming what is allowed', () => {
    const cases: [Record<string, number | string>, string][] = [
      [{ rounds: 1.5 }, 'rounds: got 1.5, expected an integer >= 1'],
      [{ rounds: 0 }, 'rounds: got 0, expected an integer >= 1'],
      [{ eps: 2 }, 'eps: got 2, expected a number >= 0 and <= 1'],
      [{ eps: '0.1' }, 'eps: got "0.1", expected a number >= 0 and <= 1'],
      [{ attack: 'pgd' }, 'attack: got "pgd", expected fgsm or bim'],
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
        strategy.parameters.flatMap((p) => {
          const value = fixedDefault(p);
          return typeof value === 'number' || typeof value === 'string' ? [[p.name, value]] : [];
        }),
      );
      assert.doesNotThrow(() => resolveStrategyParams(strategy, defaults), strategy.name);
    }
  });
});
