import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ATTACKS, attackIdentity } from '../../src/attacks/index.js';
import { cli, tinySuite } from './fixture-suite.js';

describe('cells keep their parameters', function () {
  this.timeout(300000);

  it('labels an attack by the parameters set away from their defaults, in declaration order', () => {
    const pgd = ATTACKS.get('pgd');
    assert.equal(attackIdentity(pgd, 0.1).label, 'pgd');
    assert.equal(attackIdentity(pgd, 0.1, { steps: 40 }).label, 'pgd(steps=40)');
    assert.equal(attackIdentity(pgd, 0.1, { randomStart: false, steps: 40 }).label, 'pgd(steps=40,randomStart=false)');
    // A default spelt out is no change: the same row as the attack without it.
    const defaults = attackIdentity(pgd, 0.1).params;
    assert.equal(attackIdentity(pgd, 0.1, { steps: defaults.steps as number }).label, 'pgd');
    assert.equal(attackIdentity(pgd, 0.1, { seed: 3 }).label, 'pgd', 'the harness sets the seed');
    assert.equal(attackIdentity(pgd, 0.1, { steps: 40 }).params.steps, 40);
  });

  it('one suite naming pgd with steps 1 and 40 gives two rows in every CSV and on the page', async () => {
    const fixture = await tinySuite('tiny-params');
    const suitePath = join(fixture.dir, 'tiny-params-p.json');
    writeFileSync(
      suitePath,
      JSON.stringify({
        ...fixture.suite,
        substitutes: (fixture.suite.substitutes as unknown[]).slice(0, 1),
        attacks: [
          { name: 'pgd', eps: [0.1], params: { steps: 1 } },
          { name: 'pgd', eps: [0.1], params: { steps: 40 } },
        ],
        labelSources: ['true'],
      }),
    );
    const out = join(fixture.dir, 'out');
    const args = [
      '--out',
      out,
      '--targets-dir',
      fixture.targetsDir,
      '--cache-dir',
      join(fixture.dir, 'cache'),
      '--quiet',
    ];
    const run = cli(['run', suitePath, ...args], fixture.dir);
    assert.equal(run.status, 0, run.stderr);
    const rows = (file: string) =>
      parse(readFileSync(join(out, file), 'utf8'), { columns: true }) as Record<string, string>[];
    const results = rows('results.csv');
    assert.deepEqual(
      results.map((r) => r.attack),
      ['pgd(steps=1)', 'pgd(steps=40)'],
    );
    assert.deepEqual(
      results.map((r) => (JSON.parse(r.attack_params as string) as { steps: number }).steps),
      [1, 40],
    );
    const board = rows('leaderboard-attacks.csv');
    assert.deepEqual(board.map((r) => r.attack).sort(), ['pgd(steps=1)', 'pgd(steps=40)']);
    assert.ok(
      board.every((r) => r.cells === '1'),
      'each row is one cell, not the two pooled',
    );
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    for (const label of ['pgd(steps=1)', 'pgd(steps=40)']) assert.ok(html.includes(`<td>${label}</td>`), label);
  });
});
