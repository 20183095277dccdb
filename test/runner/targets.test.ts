import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeResults } from '../../src/runner/merge.js';
import { runSuite } from '../../src/runner/run.js';
import { parseSuite } from '../../src/runner/suite.js';
import { targetDescriptorPath } from '../../src/runner/targets.js';
import { writeReport } from '../../src/report/report.js';
import { tempDir } from '../fixtures/files.js';
import { tinySuite } from './fixture-suite.js';

describe('target names', function () {
  this.timeout(600000);
  let fixture: Awaited<ReturnType<typeof tinySuite>>;

  before(async () => {
    fixture = await tinySuite('names');
  });

  it('finds a zoo target in the targets folder and takes a path to target.json as it is', () => {
    assert.equal(targetDescriptorPath('mlp', '/data/targets'), join('/data/targets', 'mlp', 'target.json'));
    assert.equal(targetDescriptorPath('/models/pt/target.json', '/data/targets'), '/models/pt/target.json');
  });

  it(
    'names a target given by the path of its target.json by its descriptor ' + 'name in every table, plot and page',
    async () => {
      const byPath = join(fixture.targetsDir, 'tiny-softmax', 'target.json');
      const suite = parseSuite(
        {
          ...fixture.suite,
          name: 'by-path',
          evaluationSize: 20,
          targets: [byPath],
          examples: 2,
          rubbish: { samples: 8 },
          substitutes: [
            {
              strategy: 'ground-truth',
              architectures: ['softmax'],
              budgets: [0],
              params: { trainImages: 200 },
              training: { epochs: 1 },
            },
          ],
          attacks: [{ name: 'fgsm', eps: [0.1] }],
          labelSources: ['true'],
        },
        'by-path',
      );
      const out = tempDir('transferbench-by-path-');
      await runSuite(suite, {
        shard: { k: 1, n: 1 },
        resume: false,
        outDir: out,
        targetsDir: fixture.targetsDir,
        cacheDir: join(fixture.dir, 'cache'),
        useCache: true,
        parallel: 1,
        progress: () => {},
      });
      const merged = mergeResults(out);
      await writeReport(out);
      assert.equal(merged.tables['transfer-matrix.csv']?.columns[1], 'tiny-softmax');
      for (const name of ['results.csv', 'leaderboard-targets.csv', 'rubbish.csv']) {
        const table = merged.tables[name];
        const column = table?.columns.indexOf('target') ?? -1;
        assert.ok(table !== undefined && column >= 0, name);
        assert.deepEqual([...new Set(table.rows.map((r) => r[column]))], ['tiny-softmax'], name);
      }
      const shown = [
        ...readdirSync(join(out, 'plots')).map((f) => join(out, 'plots', f)),
        join(out, 'index.html'),
        ...readdirSync(out)
          .filter((f) => f.endsWith('.csv'))
          .map((f) => join(out, f)),
      ];
      for (const file of shown)
        assert.ok(!readFileSync(file, 'utf8').includes('target.json'), `${file} shows the descriptor's path`);
      assert.match(readFileSync(join(out, 'plots', 'transfer-heatmap.svg'), 'utf8'), /tiny-softmax/);
    },
  );

  it('refuses two targets of one suite with the same descriptor name, naming both', async () => {
    const byPath = join(fixture.targetsDir, 'tiny-softmax', 'target.json');
    const suite = parseSuite({ ...fixture.suite, name: 'twice', targets: ['tiny-softmax', byPath] }, 'twice');
    const out = tempDir('transferbench-twice-');
    await assert.rejects(
      runSuite(suite, {
        shard: { k: 1, n: 1 },
        resume: false,
        outDir: out,
        targetsDir: fixture.targetsDir,
        cacheDir: join(fixture.dir, 'cache'),
        useCache: true,
        parallel: 1,
        progress: () => {},
      }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'DUPLICATE_NAME');
        assert.equal(
          e.message,
          `suite twice: targets[0] (tiny-softmax) and targets[1] (${byPath}) ` +
            `are both named "tiny-softmax" in their target.json; leaderboards ` +
            `name targets by that name, so give one of them another "name"`,
        );
        return true;
      },
    );
    assert.deepEqual(readdirSync(out), [], 'nothing was written');
  });
});
