import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATTACKS, TRANSFORMS } from '../../src/attacks/index.js';
import { type AnyParam, paramProperties, paramsSchema } from '../../src/common/params.js';
import { QUERY_ATTACKS } from '../../src/query-attacks/index.js';
import { suiteSchema } from '../../src/runner/suite.js';
import { STRATEGIES } from '../../src/substitutes/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DECLARATION_KEYS = new Set(['name', 'range', 'description', 'default', 'defaultText', 'internal', 'attackOnly']);
const RANGE_KEYS = new Set(['type', 'minimum', 'exclusiveMinimum', 'maximum', 'enum', 'odd']);

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const owners: [string, { name: string; parameters: readonly AnyParam[] }[]][] = [
  ['attack', ATTACKS.values()],
  ['transformation', TRANSFORMS.values()],
  ['strategy', STRATEGIES.values()],
  ['query attack', QUERY_ATTACKS.values()],
];

describe('one parameter system (src/common/params.ts)', () => {
  for (const [kind, entries] of owners) {
    it(`every ${kind} declares its parameters as the one Param type`, () => {
      for (const entry of entries) {
        for (const p of entry.parameters) {
          const where = `${entry.name}.${p.name}`;
          assert.deepEqual(
            Object.keys(p).filter((k) => !DECLARATION_KEYS.has(k)),
            [],
            `${where}: keys of another system`,
          );
          assert.equal(typeof p.description, 'string', where);
          assert.ok(['integer', 'number', 'boolean', 'string'].includes(p.range.type), where);
          assert.deepEqual(
            Object.keys(p.range).filter((k) => !RANGE_KEYS.has(k)),
            [],
            where,
          );
        }
      }
    });
  }

  it("writes the suite schema's parameters with the one generator", () => {
    const schema = JSON.parse(JSON.stringify(suiteSchema())) as {
      properties: Record<string, { items: { properties: { params: unknown }; allOf?: unknown[] } }>;
    };
    const attackParams = schema.properties.attacks?.items.properties.params as { properties: unknown };
    const own = [...ATTACKS.values(), ...TRANSFORMS.values()].flatMap((a) => a.parameters);
    assert.deepEqual(attackParams.properties, JSON.parse(JSON.stringify(paramProperties(own))));
    const text = JSON.stringify(schema);
    for (const strategy of STRATEGIES.values())
      assert.ok(text.includes(JSON.stringify(paramsSchema(strategy.parameters))), strategy.name);
  });

  it('has no second system left: no shared catalogue, no 33-field record, no per-kind spec type', () => {
    for (const gone of ['src/attacks/params.ts', 'src/attacks/attack-params.ts'])
      assert.ok(!existsSync(join(ROOT, gone)), `${gone} is back`);
    for (const file of sourceFiles('src')) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const old of ['ParameterSpec', 'QueryParameterDoc', 'ParamSpec', 'AttackParams {', 'resolveSpecs'])
        assert.ok(!text.includes(old), `${file} still uses ${old}`);
    }
  });
});
