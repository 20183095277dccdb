import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ATTACKS, attackIdentity } from '../../src/attacks/index.js';
import { DEFAULT_TRAINING } from '../../src/runner/suite-types.js';
import { strategyIdentity } from '../../src/runner/substitute-identity.js';
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

  it('labels a strategy by the parameters and training settings set away from their defaults', () => {
    const spec = (strategy: string, params: Record<string, number | string>, training = {}) => ({
      strategy,
      architecture: 'mlp',
      budget: 100,
      params,
      training: { ...DEFAULT_TRAINING, ...training },
    });
    assert.equal(strategyIdentity(spec('dynamic-distillation', {})).label, 'dynamic-distillation');
    assert.equal(
      strategyIdentity(spec('dynamic-distillation', { eps: 0.2, rounds: 3 }, { epochs: 6 })).label,
      'dynamic-distillation(rounds=3,eps=0.2,epochs=6)',
      'declaration order, training after the parameters',
    );
    assert.equal(strategyIdentity(spec('dynamic-distillation', { rounds: 4 })).label, 'dynamic-distillation');
    const pretrained = strategyIdentity(spec('pretrained', { model: '/x/target.json', threads: 2 }));
    assert.equal(pretrained.label, 'pretrained', 'the model path is the architecture column; threads are speed');
    assert.deepEqual(strategyIdentity(spec('dynamic-distillation', { rounds: 3 })).params, {
      params: { rounds: 3, attack: 'fgsm', eps: 0.3 },
      training: DEFAULT_TRAINING,
    });
    const ensemble = { ...spec('ensemble', { combine: 'loss' }), members: [spec('ground-truth', {})] };
    assert.equal(strategyIdentity(ensemble).label, 'ensemble(combine=loss)');
  });

  it(
    'one suite naming pgd with steps 1 and 40 (and ground-truth with two ' +
      'image counts) gives separate rows in every CSV and on the page',
    async () => {
      const fixture = await tinySuite('tiny-params');
      const suitePath = join(fixture.dir, 'tiny-params-p.json');
      const groundTruth = (fixture.suite.substitutes as Record<string, unknown>[])[0];
      writeFileSync(
        suitePath,
        JSON.stringify({
          ...fixture.suite,
          substitutes: [
            { ...groundTruth, params: { trainImages: 300 } },
            { ...groundTruth, params: { trainImages: 600 } },
          ],
          rubbish: undefined,
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
        ['pgd(steps=1)', 'pgd(steps=40)', 'pgd(steps=1)', 'pgd(steps=40)'],
      );
      assert.deepEqual(
        results.map((r) => (JSON.parse(r.attack_params as string) as { steps: number }).steps),
        [1, 40, 1, 40],
      );
      const board = rows('leaderboard-attacks.csv');
      assert.deepEqual(board.map((r) => r.attack).sort(), ['pgd(steps=1)', 'pgd(steps=40)']);
      assert.ok(
        board.every((r) => r.cells === '2'),
        'each row is one attack setting (on the two substitutes), not the two settings pooled',
      );
      const strategies = ['ground-truth(trainImages=300,epochs=1)', 'ground-truth(trainImages=600,epochs=1)'];
      assert.deepEqual(
        results.map((r) => r.strategy),
        [strategies[0], strategies[0], strategies[1], strategies[1]],
      );
      assert.deepEqual(
        results.map((r) => (JSON.parse(r.strategy_params as string) as { params: { trainImages: number } }).params),
        [{ trainImages: 300 }, { trainImages: 300 }, { trainImages: 600 }, { trainImages: 600 }],
      );
      assert.deepEqual(
        rows('leaderboard-substitutes.csv')
          .map((r) => r.strategy)
          .sort(),
        strategies,
      );
      assert.equal(rows('transfer-matrix.csv').length, 2);
      const html = readFileSync(join(out, 'index.html'), 'utf8');
      for (const label of ['pgd(steps=1)', 'pgd(steps=40)', ...strategies])
        assert.ok(html.includes(`<td>${label}</td>`), label);
    },
  );
});
