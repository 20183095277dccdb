import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { VOLATILE_COLUMNS } from '../../src/report/leaderboards.js';
import { skipBecause } from '../helpers/skip.js';
import { cli, tinySuite } from './fixture-suite.js';

/** results.csv without the timing columns, which differ between runs. */
function timelessResults(dir: string): string[][] {
  const [header, ...rows] = parse(readFileSync(join(dir, 'results.csv'), 'utf8')) as string[][];
  const keep = (header as string[]).map((name, i) => ((VOLATILE_COLUMNS as readonly string[]).includes(name) ? -1 : i));
  return [header as string[], ...rows].map((row) => row.filter((_, i) => keep[i] !== -1));
}

describe('a full disk', function () {
  this.timeout(600000);

  it(
    'ends the run in one line (IO_ERROR, exit 2, the lock released) and ' +
      '--resume then gives the CSVs of a run that had room',
    async function () {
      const fixture = await tinySuite('tiny-full');
      const suitePath = join(fixture.dir, 'tiny-full-s.json');
      writeFileSync(suitePath, JSON.stringify({ ...fixture.suite, labelSources: ['true'] }));
      const common = [
        '--targets-dir',
        fixture.targetsDir,
        '--cache-dir',
        join(fixture.dir, 'cache'),
        '--quiet',
        '--parallel',
        '2',
      ];
      const roomy = join(fixture.dir, 'roomy');
      assert.equal(cli(['run', suitePath, '--out', roomy, ...common], fixture.dir).status, 0);
      const size = statSync(join(roomy, 'results-1-of-1.jsonl')).size;

      const mountPoint = join(fixture.dir, 'small-disk');
      mkdirSync(mountPoint);
      // Room for about half the records: the run fills the disk mid-way.
      const mounted = spawnSync('mount', [
        '-t',
        'tmpfs',
        '-o',
        `size=${Math.max(8192, Math.floor(size / 2))}`,
        'tmpfs',
        mountPoint,
      ]);
      if (mounted.status !== 0)
        skipBecause(this, `cannot mount a small tmpfs here (${String(mounted.stderr).trim() || 'mount failed'})`);
      try {
        const out = join(mountPoint, 'run');
        const full = cli(['run', suitePath, '--out', out, ...common], fixture.dir);
        assert.equal(full.status, 2, full.stderr);
        assert.match(
          full.stderr,
          // the ledger line goes first: whichever of the two finds the disk full ends the run
          new RegExp(
            '^transferbench: .*(results-1-of-1\\.jsonl: could not write the cell ' +
              "result|ledger-1-of-1\\.jsonl: could not write the oracle's ledger " +
              'entry): no space left on device \\(ENOSPC\\)\\n$',
          ),
        );
        assert.ok(!existsSync(join(out, 'results-1-of-1.jsonl.lock')), 'the lock is released');
        assert.deepEqual(
          readdirSync(out).filter((f) => f.endsWith('.tmp')),
          [],
          'no temporary file is left',
        );
        assert.equal(spawnSync('mount', ['-o', 'remount,size=64m', mountPoint]).status, 0);
        const resumed = cli(['run', suitePath, '--out', out, '--resume', ...common], fixture.dir);
        assert.equal(resumed.status, 0, resumed.stderr);
        assert.deepEqual(timelessResults(out), timelessResults(roomy));
        assert.equal(
          readFileSync(join(out, 'ledger-1-of-1.jsonl'), 'utf8'),
          readFileSync(join(roomy, 'ledger-1-of-1.jsonl'), 'utf8'),
          "the oracle's ledger is byte-identical after the disk filled up and the run resumed",
        );
        for (const csv of [
          'leaderboard-attacks.csv',
          'leaderboard-substitutes.csv',
          'leaderboard-targets.csv',
          'transfer-matrix.csv',
        ])
          assert.equal(readFileSync(join(out, csv), 'utf8'), readFileSync(join(roomy, csv), 'utf8'), csv);
      } finally {
        spawnSync('umount', [mountPoint]);
      }
    },
  );
});
