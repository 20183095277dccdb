import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadEmbeddedMnist, stratifiedSplit } from '../../src/data/index.js';
import { withoutVolatileColumns } from '../../src/report/leaderboards.js';
import { expandGrid, shardCells } from '../../src/runner/grid.js';
import { replicateEvaluation } from '../../src/runner/replicates.js';
import { parseSuite, replicateSeeds } from '../../src/runner/suite.js';
import { replicateTargetPath } from '../../src/runner/targets.js';
import { cli, tinySuite } from './fixture-suite.js';

const CSVS = ['results.csv', 'leaderboard-attacks.csv', 'leaderboard-substitutes.csv', 'leaderboard-targets.csv'];

describe('replicates', function () {
  this.timeout(600000);

  it('reads a count, a list of seeds and the object form, and refuses an object with both or neither', () => {
    assert.deepEqual(replicateSeeds({ seed: 3 }), [3]);
    assert.deepEqual(replicateSeeds({ seed: 3, replicates: 3 }), [3, 4, 5]);
    assert.deepEqual(replicateSeeds({ seed: 3, replicates: [9, 1] }), [9, 1]);
    assert.deepEqual(replicateSeeds({ seed: 0, replicates: { count: 2, targets: 'retrain' } }), [0, 1]);
    const base = {
      name: 'r',
      dataset: 'mnist-embedded',
      seed: 0,
      evaluationSize: 10,
      targets: ['t'],
      oracle: { mode: 'label' },
      substitutes: [{ strategy: 'ground-truth', architectures: ['mlp'], budgets: [0] }],
      attacks: [{ name: 'fgsm', eps: [0.1] }],
      labelSources: ['true'],
    };
    assert.throws(
      () => parseSuite({ ...base, replicates: { count: 2, seeds: [1, 2] } }, 'r.json'),
      /^TransferbenchError: r.json: replicates: give either "count" or "seeds" \(found both\)$/,
    );
    assert.throws(
      () => parseSuite({ ...base, replicates: 0 }, 'r.json'),
      /^TransferbenchError: r.json: replicates must be >= 1 \(found 0\)$/,
    );
  });

  it('makes each replicate its own groups, the suite seed keeping the ids of a run without replicates', () => {
    const base = {
      name: 'r',
      dataset: 'mnist-embedded',
      seed: 0,
      evaluationSize: 10,
      targets: ['t'],
      oracle: { mode: 'label' },
      substitutes: [{ strategy: 'ground-truth', architectures: ['mlp'], budgets: [0] }],
      attacks: [{ name: 'fgsm', eps: [0.1, 0.2] }],
      labelSources: ['true'],
    };
    const plain = expandGrid(parseSuite(base, 'r'));
    const replicated = expandGrid(parseSuite({ ...base, replicates: 3 }, 'r'));
    assert.equal(replicated.length, 6);
    assert.deepEqual(
      replicated.slice(0, 2).map((c) => c.id),
      plain.map((c) => c.id),
    );
    assert.deepEqual(
      replicated.map((c) => [c.index, c.replicate, c.seed]),
      [
        [0, 0, 0],
        [1, 0, 0],
        [2, 1, 1],
        [3, 1, 1],
        [4, 2, 2],
        [5, 2, 2],
      ],
    );
    assert.equal(new Set(replicated.map((c) => c.group)).size, 3, 'one group per replicate');
    const shards = [1, 2, 3].map((k) => shardCells(replicated, { k, n: 3 }).map((c) => c.replicate));
    assert.deepEqual(shards, [
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
  });

  it('draws each replicate its own evaluation images from the test split, the suite seed the first ones', () => {
    const { test } = stratifiedSplit(loadEmbeddedMnist(), 0.2, 0);
    const suite = { name: 'r', seed: 0, evaluationSize: 50 };
    const own = replicateEvaluation(test, suite, 0);
    assert.deepEqual(own.labels, test.labels.subarray(0, 50));
    const other = replicateEvaluation(test, suite, 1);
    assert.equal(other.labels.length, 50);
    assert.notDeepEqual(other.images.subarray(0, 784 * 5), own.images.subarray(0, 784 * 5));
    assert.deepEqual(replicateEvaluation(test, suite, 1).images, other.images, 'seeded');
  });

  it("finds each replicate's own build of a zoo target when replicates retrain targets", () => {
    const suite = { seed: 0 };
    assert.equal(replicateTargetPath('mlp', 'T', suite, 1, true), join('T', 'replicate-seed1', 'mlp', 'target.json'));
    assert.equal(replicateTargetPath('mlp', 'T', suite, 0, true), join('T', 'mlp', 'target.json'), "the suite's seed");
    assert.equal(replicateTargetPath('mlp', 'T', suite, 1, false), join('T', 'mlp', 'target.json'), 'fixed targets');
    assert.equal(replicateTargetPath('/x/target.json', 'T', suite, 1, true), '/x/target.json', "the user's own");
  });

  it('shards and resume with replicates (targets retrained) give the CSVs of a single run byte for byte', async () => {
    const fixture = await tinySuite('tiny-replicates');
    const suitePath = join(fixture.dir, 'tiny-replicates-r.json');
    const [groundTruth, , whiteBox] = fixture.suite.substitutes as Record<string, unknown>[];
    writeFileSync(
      suitePath,
      JSON.stringify({
        ...fixture.suite,
        replicates: { count: 2, targets: 'retrain' },
        substitutes: [groundTruth, whiteBox],
        attacks: [{ name: 'fgsm', eps: [0.1] }],
        labelSources: ['true'],
        rubbish: undefined,
      }),
    );
    const common = ['--targets-dir', fixture.targetsDir, '--cache-dir', join(fixture.dir, 'cache'), '--quiet'];
    const missing = cli(['targets', 'missing', suitePath, '--targets-dir', fixture.targetsDir], fixture.dir);
    assert.equal(missing.stdout, 'replicate-seed1/tiny-softmax\n');
    const refused = cli(['run', suitePath, '--out', join(fixture.dir, 'refused'), ...common], fixture.dir);
    assert.equal(refused.status, 2);
    assert.match(
      refused.stderr.trim(),
      new RegExp(
        '^transferbench: shard 1\\/1 on node .*: target tiny-softmax of the ' +
          'replicate of seed 1 is not built here ' +
          '\\(.*replicate-seed1\\/tiny-softmax\\/target\\.json is missing\\); ' +
          "build the replicates' targets with `transferbench targets build " +
          '--suite SUITE --targets-dir .*`$',
      ),
    );
    // Stands in for the replicate's retrained build (the zoo would train the recipe from another seed).
    cpSync(join(fixture.targetsDir, 'tiny-softmax'), join(fixture.targetsDir, 'replicate-seed1', 'tiny-softmax'), {
      recursive: true,
    });
    const run = (out: string, ...more: string[]) => {
      const r = cli(['run', suitePath, '--out', join(fixture.dir, out), ...more, ...common], fixture.dir);
      assert.equal(r.status, 0, r.stderr);
    };
    run('single');
    run('sharded', '--shard', '1/2');
    run('sharded', '--shard', '2/2');
    const merged = cli(['merge', join(fixture.dir, 'sharded'), '--no-report'], fixture.dir);
    assert.equal(merged.status, 0, merged.stderr);
    // The single run as a kill would have left it (its last cell lost, nothing merged), then resumed.
    cpSync(join(fixture.dir, 'single'), join(fixture.dir, 'resumed'), {
      recursive: true,
      filter: (f) => !f.endsWith('.csv') && !f.endsWith('.html'),
    });
    const results = join(fixture.dir, 'resumed', 'results-1-of-1.jsonl');
    const lines = readFileSync(results, 'utf8').trim().split('\n');
    writeFileSync(results, `${lines.slice(0, -1).join('\n')}\n`);
    run('resumed', '--resume');
    const stable = (dir: string, csv: string) =>
      withoutVolatileColumns(readFileSync(join(fixture.dir, dir, csv), 'utf8'));
    for (const csv of CSVS) {
      assert.equal(stable('sharded', csv), stable('single', csv), `sharded ${csv}`);
      assert.equal(stable('resumed', csv), stable('single', csv), `resumed ${csv}`);
    }
    const rows = parse(readFileSync(join(fixture.dir, 'single', 'results.csv'), 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    assert.deepEqual(
      rows.map((r) => [r.replicate, r.seed, r.target, r.strategy]),
      [
        ['0', '0', 'tiny-softmax', 'ground-truth(trainImages=600,epochs=1)'],
        ['0', '0', 'tiny-softmax', 'white-box'],
        ['1', '1', 'tiny-softmax', 'ground-truth(trainImages=600,epochs=1)'],
        ['1', '1', 'tiny-softmax', 'white-box'],
      ],
      "one target name across replicates (the replicate's build is named as the suite's target), so boards pool it",
    );
    // Retrained from another seed, on other images: the ground-truth substitute is another network.
    assert.notEqual(rows[0]?.substitute_fidelity, rows[2]?.substitute_fidelity);
    assert.notEqual(rows[1]?.target_fooled, rows[3]?.target_fooled, 'other evaluation images');
  });
});
