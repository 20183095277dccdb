import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandGrid, gridSize } from '../../src/runner/grid.js';
import { mergeResults } from '../../src/runner/merge.js';
import { mergeCommand } from '../../src/cli/commands/bench.js';
import { writeReport } from '../../src/report/report.js';
import { templateRecord, writeSyntheticRun } from '../../perf/synthetic-run.js';
import { readResults, resultFiles, resultsFile, type CellResult } from '../../src/records/results.js';
import { leaderboards } from '../../src/report/leaderboards.js';
import { tempDir } from '../fixtures/files.js';

const TEMPLATE = fileURLToPath(new URL('../../../reports/repro-kurakin/results-1-of-1.jsonl', import.meta.url));
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CSVS = [
  'results.csv',
  'leaderboard-targets.csv',
  'leaderboard-attacks.csv',
  'leaderboard-substitutes.csv',
  'transfer-matrix.csv',
];
const SHAPE = { shards: 8, cellsPerShard: 60 };

/** A synthetic run of 8 shards x 60 cells made from a real cell record, in a fresh folder. */
function syntheticRun(): { dir: string; records: CellResult[] } {
  const dir = tempDir('transferbench-merge-');
  writeSyntheticRun(dir, SHAPE, templateRecord(TEMPLATE));
  return { dir, records: resultFiles(dir).flatMap((f) => readResults(f)) };
}

/** The same records as one shard file in the suite's order: what a single process would have written. */
function asOneShard(from: string, records: readonly CellResult[]): string {
  const dir = tempDir('transferbench-merge-one-');
  copyFileSync(join(from, 'suite.json'), join(dir, 'suite.json'));
  writeFileSync(
    resultsFile(dir, { k: 1, n: 1 }),
    [...records]
      .sort((a, b) => a.index - b.index)
      .map((r) => `${JSON.stringify(r)}\n`)
      .join(''),
  );
  return dir;
}

describe('merge (streaming)', () => {
  it('counts the grid without expanding it', () => {
    const { dir } = syntheticRun();
    const suite = JSON.parse(readFileSync(join(dir, 'suite.json'), 'utf8')).suite;
    assert.equal(gridSize(suite), SHAPE.shards * SHAPE.cellsPerShard);
    assert.equal(expandGrid(suite).length, gridSize(suite));
  });

  it(
    'gives the CSVs of the in-memory leaderboards and of one shard, ' +
      'whatever order the shard files hold the cells in',
    () => {
      const { dir, records } = syntheticRun();
      assert.equal(records.length, SHAPE.shards * SHAPE.cellsPerShard);
      const [first, second] = records;
      assert.ok(
        first?.examples !== undefined && second !== undefined && first.index > second.index,
        'records carry images, in reverse cell order',
      );
      const merged = mergeResults(dir);
      assert.equal(merged.cells, records.length);
      const expected = leaderboards(records);
      const single = asOneShard(dir, records);
      mergeResults(single);
      for (const csv of CSVS) {
        assert.equal(readFileSync(join(dir, csv), 'utf8'), expected[csv], csv);
        assert.equal(readFileSync(join(single, csv), 'utf8'), expected[csv], csv);
      }
      assert.equal(readFileSync(join(dir, 'results.csv'), 'utf8').trimEnd().split('\n').length, 1 + records.length);
      assert.equal(merged.tables['results.csv']?.rows.length, records.length);
      assert.equal(
        mergeResults(dir, { tables: false }).tables['results.csv'],
        undefined,
        'without tables, no row is kept',
      );
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
        cells: number;
        totalCellSeconds: number;
        oracle: { isolation?: string };
      };
      assert.equal(manifest.cells, records.length);
      assert.equal(manifest.oracle.isolation, 'threads', 'the oracle isolation the run used, resolved');
      assert.equal(manifest.totalCellSeconds, Math.round(records.reduce((s, r) => s + r.seconds, 0) * 1000) / 1000);
    },
  );

  it('merges from the command line without the report (--no-report): CSVs and manifest only', () => {
    const { dir } = syntheticRun();
    const r = spawnSync(process.execPath, [CLI, 'merge', dir, '--no-report'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`merged ${SHAPE.shards * SHAPE.cellsPerShard} cells`));
    assert.ok(existsSync(join(dir, 'results.csv')) && existsSync(join(dir, 'manifest.json')));
    assert.ok(!existsSync(join(dir, 'index.html')), 'no report page');
  });

  it(
    'merges with the report (as `merge` does): the same plots, grids ' + 'and page as `report` run afterwards',
    async () => {
      const dir = tempDir('transferbench-merge-report-');
      writeSyntheticRun(dir, { shards: 4, cellsPerShard: 10 }, templateRecord(TEMPLATE));
      const lines: string[] = [];
      await mergeCommand({ info: (line) => lines.push(line), warn: () => {}, verbose: () => {} }, dir);
      assert.match(lines.join('\n'), /^merged 40 cells -> [\s\S]*^report: .*index\.html$/m);
      const report = () => [
        join(dir, 'index.html'),
        ...['plots', 'grids'].flatMap((d) =>
          readdirSync(join(dir, d))
            .sort()
            .map((f) => join(dir, d, f)),
        ),
      ];
      const merged = new Map(report().map((f) => [f, readFileSync(f)]));
      // merge gathers the grids' cells as it streams the records; report reads the shard files again.
      assert.ok([...merged.keys()].filter((f) => f.endsWith('.png')).length > 0, 'example grids written');
      rmSync(join(dir, 'grids'), { recursive: true });
      await writeReport(dir);
      assert.deepEqual(report(), [...merged.keys()]);
      // Vega numbers its gradients per process (gradient_0, then gradient_1 in a second render here).
      const same = (bytes: Buffer) => bytes.toString('latin1').replace(/gradient_\d+/g, 'gradient');
      for (const [file, bytes] of merged) assert.equal(same(readFileSync(file)), same(bytes), `${file} differs`);
      assert.equal(
        (readFileSync(join(dir, 'index.html'), 'utf8').match(/<tr><td>/g) ?? []).length > 40,
        true,
        'every results row is on the page',
      );
    },
  );

  it('skips a last line cut off by a kill, and then misses exactly that cell', () => {
    const { dir, records } = syntheticRun();
    const file = resultsFile(dir, { k: 3, n: SHAPE.shards });
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    writeFileSync(file, `${lines.slice(0, -2).join('\n')}\n${(lines.at(-2) ?? '').slice(0, 500)}`);
    const lost = JSON.parse(lines.at(-2) ?? '{}') as CellResult;
    assert.throws(
      () => mergeResults(dir),
      new RegExp(`1 of ${records.length} cells have no result \\(e\\.g\\. cell ${lost.index} ${lost.cellId}\\)`),
    );
  });

  it('refuses a repeated record, a record of no cell, and a corrupted line, naming them', () => {
    const { dir, records } = syntheticRun();
    const file = resultsFile(dir, { k: 1, n: SHAPE.shards });
    const one = records.find((r) => r.index === 5) as CellResult;
    appendFileSync(file, `${JSON.stringify(one)}\n`);
    assert.throws(
      () => mergeResults(dir),
      new RegExp(`1 cell\\(s\\) appear more than once \\(e\\.g\\. ${one.cellId}\\)`),
    );
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        /\n[^\n]*\n$/,
        `\n${JSON.stringify({ ...one, cellId: '0123456789abcdef' })}\n`,
      ),
    );
    assert.throws(() => mergeResults(dir), /1 result\(s\) belong to no cell of the suite/);
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"cellId": oops\n`);
    assert.throws(
      () => mergeResults(dir),
      /results-1-of-8\.jsonl: line 62 is not a JSON record; the file was edited or corrupted/,
    );
  });

  it('a merge killed with SIGKILL leaves its temporaries; the next merge removes them, with a note', async () => {
    const { dir } = syntheticRun();
    // A temporary folder of its own: another test's merge would otherwise remove the killed one's spill first.
    const temp = mkdtempSync(join(tmpdir(), 'transferbench-merge-test-'));
    const env = { ...process.env, TMPDIR: temp };
    const child = spawn(process.execPath, [CLI, 'merge', dir, '--no-report'], { stdio: 'ignore', env });
    const spills = () => readdirSync(temp).filter((f) => f.startsWith(`transferbench-merge-${child.pid}-`));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // The spill folder lives from the first shard read to the last CSV: the kill lands mid-merge.
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (spills().length > 0) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        } else if (child.exitCode !== null) {
          clearInterval(poll);
          reject(new Error('the merge finished before it could be killed'));
        }
      }, 1);
    });
    await exited;
    const left = spills();
    assert.equal(left.length, 1, 'the killed merge left its spill folder');
    const again = spawnSync(process.execPath, [CLI, 'merge', dir, '--no-report'], { encoding: 'utf8', env });
    assert.equal(again.status, 0, again.stderr);
    assert.ok(
      again.stderr.includes(`note: removed ${join(temp, left[0] as string)}, left by an interrupted merge or run\n`),
      again.stderr,
    );
    assert.deepEqual(spills(), [], 'the spill folder is gone');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary left in the run folder',
    );
    rmSync(temp, { recursive: true, force: true });
  });
});
