import assert from 'node:assert/strict';
import { describeParams, param, paramsSchema, POSITIVE_INTEGER, resolveParams } from '../../src/common/params.js';

const DEMO = [
  param({ name: 'steps', range: POSITIVE_INTEGER, description: 'iterations', default: 10 }),
  param({
    name: 'stepSize',
    range: { type: 'number', minimum: 0 },
    description: 'step',
    default: (p) => 1 / (p.steps as number),
    defaultText: '1/steps',
  }),
  param({ name: 'norm', range: { type: 'string', enum: ['linf', 'l2'] }, description: 'norm', default: 'linf' }),
  param({ name: 'kernel', range: { type: 'integer', minimum: 1, odd: true }, description: 'k', default: 3 }),
  param({ name: 'seed', range: { type: 'integer' }, description: 'seed', default: 0, internal: true }),
];

describe('params', () => {
  it('resolves in declaration order, a default reading the ones before it', () => {
    assert.deepEqual(resolveParams('demo', DEMO, { steps: 4 }), {
      steps: 4,
      stepSize: 0.25,
      norm: 'linf',
      kernel: 3,
      seed: 0,
    });
  });

  it('refuses an unknown key in one line naming the parameters it takes (internal ones aside)', () => {
    assert.throws(() => resolveParams('demo', DEMO, { step: 3 }), {
      message: 'demo: parameter "step": got 3, expected one of the parameters it takes: steps, stepSize, norm, kernel',
    });
    assert.throws(() => resolveParams('bare', [], { x: 1 }), {
      message: 'bare: parameter "x": got 1, expected no parameter (it takes none)',
    });
  });

  it('refuses a value out of range in one line naming key, value and range', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ steps: 1.5 }, 'demo: steps: got 1.5, expected an integer >= 1'],
      [{ norm: 'l1' }, 'demo: norm: got "l1", expected linf or l2'],
      [{ kernel: 4 }, 'demo: kernel: got 4, expected an odd integer >= 1'],
      [{ stepSize: '0.1' }, 'demo: stepSize: got "0.1", expected a number >= 0'],
    ];
    for (const [overrides, message] of cases) assert.throws(() => resolveParams('demo', DEMO, overrides), { message });
  });

  it('writes the schema of the declared keys, internal ones aside, and describes them for list and docs', () => {
    const schema = paramsSchema(DEMO) as { properties: Record<string, unknown>; additionalProperties: boolean };
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties), ['steps', 'stepSize', 'norm', 'kernel']);
    assert.deepEqual(schema.properties.kernel, { type: 'integer', minimum: 1, description: 'k' });
    assert.deepEqual(describeParams(DEMO)[1], {
      name: 'stepSize',
      default: '1/steps',
      range: 'a number >= 0',
      description: 'step',
    });
  });
});
