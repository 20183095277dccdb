import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GroupRunner } from '../../src/runner/group.js';
import { expandGrid, shardCells, suiteHash } from '../../src/runner/grid.js';
import { rate } from '../../src/records/metrics.js';
import { mergeResults } from '../../src/runner/merge.js';
import { readResults, type CellResult } from '../../src/records/results.js';
import { loadSuite, parseSuite } from '../../src/runner/suite.js';
import { toCsv, withoutVolatileColumns } from '../../src/report/leaderboards.js';
import { tempDir } from '../fixtures/files.js';
import { CLI, cli, timeless, tinySuite } from './fixture-suite.js';

/** A CSV file without its timing columns: everything else must be identical between runs. */
const stable = (file: string) => withoutVolatileColumns(readFileSync(file, 'utf8'));
const CSVS = [
  'rubbish.csv',
  'results.csv',
  'leaderboard-targets.csv',
  'leaderboard-attacks.csv',
  'leaderboard-substitutes.csv',
  'transfer-matrix.csv',
];

/** Runs `work` once, the first time any test asks, so each test can be run alone or in any order. */
function once<T>(work: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= work());
}

describe('benchmark runner', function () {
  this.timeout(600000);
  let fixture: Awaited<ReturnType<typeof tinySuite>>;
  const common = (quiet = true) => [
    '--targets-dir',
    fixture.targetsDir,
    '--cache-dir',
    join(fixture.dir, 'cache'),
    ...(quiet ? ['--quiet'] : []),
  ];

  /** The whole suite run in one go: the reference the other runs are compared with. Read it, never change it. */
  const single = once(async () => {
    const out = join(fixture.dir, 'single');
    const run = cli(['run', fixture.suitePath, '--out', out, ...common()], fixture.dir);
    assert.equal(run.status, 0, run.stderr);
    return out;
  });
  /** The suite run as 3 shards and merged. */
  const sharded = once(async () => {
    const out = join(fixture.dir, 'sharded');
    for (const k of [1, 2, 3]) {
      const r = cli(['run', fixture.suitePath, '--shard', `${k}/3`, '--out', out, ...common()], fixture.dir);
      assert.equal(r.status, 0, r.stderr);
    }
    const merge = cli(['merge', out], fixture.dir);
    assert.equal(merge.status, 0, merge.stderr);
    return out;
  });
  /** A fresh copy of a run's folder, for a test that damages it. */
  const copyOf = (dir: string) => {
    const copy = tempDir('transferbench-run-copy-');
    cpSync(dir, copy, { recursive: true });
    return copy;
  };

  before(async () => {
    fixture = await tinySuite();
  });

  it('computes Wilson 95% intervals', () => {
    const r = rate(8, 10);
    assert.equal(r.value, 0.8);
    assert.ok(Math.abs(r.low - 0.4902) < 1e-3 && Math.abs(r.high - 0.9433) < 1e-3, `${r.low} ${r.high}`);
    assert.deepEqual([rate(0, 0).low, rate(0, 0).high], [0, 1]);
  });

  it('expands a stable grid with hashed ids, and shards it into disjoint whole groups', () => {
    const suite = parseSuite(fixture.suite, 'tiny');
    const cells = expandGrid(suite);
    assert.equal(cells.length, 3 * 3 * 2);
    assert.deepEqual(
      expandGrid(suite).map((c) => c.id),
      cells.map((c) => c.id),
    );
    const shards = [1, 2, 3].map((k) => shardCells(cells, { k, n: 3 }));
    assert.deepEqual(
      shards
        .flat()
        .map((c) => c.id)
        .sort(),
      cells.map((c) => c.id).sort(),
    );
    for (const shard of shards)
      for (const c of shard)
        assert.ok(shard.filter((d) => d.group === c.group).length === cells.filter((d) => d.group === c.group).length);
    const changed = expandGrid(parseSuite({ ...fixture.suite, seed: 1 }, 'tiny'));
    assert.notEqual(changed[0]?.id, cells[0]?.id, 'the id covers suite settings too');
  });

  it('runs a suite, and 3 shards merged give identical CSVs (timing columns aside)', async () => {
    const [one, three] = [await single(), await sharded()];
    for (const csv of CSVS) assert.equal(stable(join(three, csv)), stable(join(one, csv)), csv);
    const rows = readFileSync(join(one, 'results.csv'), 'utf8').trim().split('\n');
    assert.equal(rows.length, 1 + 18);
    const manifest = JSON.parse(readFileSync(join(one, 'manifest.json'), 'utf8')) as {
      backend: { name: string };
      suiteHash: string;
      cells: number;
    };
    assert.equal(manifest.backend.name, 'wasm');
    assert.equal(manifest.cells, 18);
    const rubbish = readFileSync(join(one, 'rubbish.csv'), 'utf8').trim().split('\n');
    assert.equal(rubbish.length, 2, 'one rubbish-class row per target');
    assert.match(rubbish[1] as string, /^tiny-softmax,64,0.5,0.5,0.5,/);
    const examples = readResults(join(one, 'results-1-of-1.jsonl')).map((r) => r.examples);
    assert.ok(
      examples.every(
        (e) => e !== undefined && e.indices.length === 4 && Buffer.from(e.adversarial, 'base64').length === 4 * 784,
      ),
    );
    assert.ok(
      readdirSync(join(one, 'grids')).some((f) => f.endsWith('.png')),
      'merge draws the example grids',
    );
  });

  it('marks the white-box reference in every leaderboard and keeps it out of the attack ranking', async () => {
    const one = await single();
    const results = readFileSync(join(one, 'results.csv'), 'utf8');
    assert.match(results, /white-box,softmax,0,true,/);
    const substitutes = readFileSync(join(one, 'leaderboard-substitutes.csv'), 'utf8');
    assert.match(substitutes, /white-box,softmax,0,true/);
    const attacks = readFileSync(join(one, 'leaderboard-attacks.csv'), 'utf8').trim().split('\n');
    const header = attacks[0]?.split(',') ?? [];
    const cellsColumn = header.indexOf('cells');
    for (const line of attacks.slice(1)) {
      const fields = line.split(',');
      // two non-reference substitutes x the attack's eps list (fgsm 2, bim 1)
      assert.equal(fields[cellsColumn], fields[1] === 'fgsm' ? '4' : '2', line);
    }
  });

  it('a run killed with SIGKILL and resumed gives the same CSVs, no cell lost or duplicated', async () => {
    const reference = await single();
    const killed = join(fixture.dir, 'killed');
    const file = join(killed, 'results-1-of-1.jsonl');
    const child = spawn(process.execPath, [CLI, 'run', fixture.suitePath, '--out', killed, '--no-cache', ...common()], {
      cwd: fixture.dir,
      stdio: 'ignore',
    });
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        const lines = existsSync(file)
          ? readFileSync(file, 'utf8')
              .split('\n')
              .filter((l) => l !== '').length
          : 0;
        if (lines >= 4) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        } else if (Date.now() - started > 240000) {
          clearInterval(poll);
          reject(new Error('the run produced no results in time'));
        }
      }, 20);
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const partial = readResults(file).length;
    assert.ok(partial >= 4 && partial < 18, `killed after ${partial} cells`);
    const resumed = cli(['run', fixture.suitePath, '--out', killed, '--resume', ...common(false)], fixture.dir);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`ran ${18 - partial} cell\\(s\\), skipped ${partial} already done`));
    const all = readResults(file);
    assert.equal(all.length, 18);
    assert.equal(new Set(all.map((r) => r.cellId)).size, 18);
    for (const csv of CSVS) assert.equal(stable(join(killed, csv)), stable(join(reference, csv)), csv);
    assert.equal(
      readFileSync(join(killed, 'ledger-1-of-1.jsonl'), 'utf8'),
      readFileSync(join(reference, 'ledger-1-of-1.jsonl'), 'utf8'),
      "the oracle's ledger of the resumed run is byte-identical",
    );
  });

  it("writes the oracle's ledger beside the results, and merge checks every record against it", async () => {
    const reference = readFileSync(join(await single(), 'ledger-1-of-1.jsonl'), 'utf8');
    const entries = reference
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; index: number; evaluation: number; substituteTraining: number });
    assert.deepEqual(
      entries.map((e) => [e.kind, e.index, e.evaluation]),
      Array.from({ length: 18 }, (_, i) => ['transfer', i, 40]),
      'one entry per cell in suite order: the 40 evaluation queries the oracle charged for its images',
    );
    const dir = copyOf(await sharded());
    const shards = [1, 2, 3].map((k) => readFileSync(join(dir, `ledger-${k}-of-3.jsonl`), 'utf8'));
    assert.deepEqual(shards.join('').trimEnd().split('\n').sort(), reference.trimEnd().split('\n').sort());
    assert.equal(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).oracleLedger, 'checked');
    const results = join(dir, 'results-2-of-3.jsonl');
    const saved = readFileSync(results, 'utf8');
    const first = JSON.parse(saved.split('\n')[0] as string) as { cellId: string };
    writeFileSync(results, saved.replace('"evaluated":40', '"evaluated":41'));
    assert.throws(
      () => mergeResults(dir),
      new RegExp(
        `results-2-of-3.jsonl: cell ${first.cellId} reports 41 evaluated images, the oracle's ledger charged 40 ` +
          'evaluation queries for them; the record was edited or comes from another run: rerun its shard into a ' +
          'fresh --out$',
      ),
    );
    const trained = saved.split('\n').find((l) => /"substituteQueries":[1-9]/.test(l)) as string;
    const record = JSON.parse(trained) as { cellId: string; substituteQueries: number };
    assert.ok(
      entries.some((e) => (e as { substituteTraining?: number }).substituteTraining === record.substituteQueries),
      'the ledger holds the substitute-training queries the training oracle charged',
    );
    writeFileSync(
      results,
      saved.replace(
        trained,
        trained.replace(/"substituteQueries":\d+/, `"substituteQueries":${record.substituteQueries - 1}`),
      ),
    );
    assert.throws(
      () => mergeResults(dir),
      new RegExp(
        `results-2-of-3.jsonl: cell ${record.cellId} reports ${record.substituteQueries - 1} substitute-training ` +
          `queries, the oracle's ledger charged ${record.substituteQueries}; the record was edited`,
      ),
    );
    writeFileSync(results, saved);
    const ledger2 = join(dir, 'ledger-2-of-3.jsonl');
    writeFileSync(ledger2, shards[1]?.split('\n').slice(1).join('\n') as string);
    assert.throws(
      () => mergeResults(dir),
      new RegExp(
        `results-2-of-3.jsonl: transfer cell ${first.cellId} has a result but no entry in the oracle's ledger ` +
          '\\(ledger-2-of-3.jsonl\\); the ledger was deleted or cut: rerun its shard into a fresh --out$',
      ),
    );
    writeFileSync(ledger2, `${shards[1]}${shards[1]}`);
    assert.throws(
      () => mergeResults(dir),
      new RegExp(
        "the oracle's ledger has more than one entry for transfer cell " +
          '[0-9a-f]{16} \\(again in ledger-2-of-3.jsonl\\); remove the repeated ' +
          'ledger file$',
      ),
    );
    for (const k of [1, 2, 3]) rmSync(join(dir, `ledger-${k}-of-3.jsonl`));
    assert.equal(mergeResults(dir).ledgerChecked, false, 'a folder from before ledgers still merges');
    assert.equal(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).oracleLedger, 'absent');
  });

  it('a pool worker killed mid-suite loses no cell', async () => {
    const suite = parseSuite(fixture.suite, 'tiny');
    const cells = expandGrid(suite).filter((c) => c.substitute.strategy === 'static-distillation');
    const runner = new GroupRunner(
      suite,
      suiteHash(suite),
      { targetsDir: fixture.targetsDir, cacheDir: join(fixture.dir, 'cache-kill'), useCache: false },
      1,
    );
    const results: CellResult[] = [];
    let exitCode: Promise<number> | undefined;
    let lost = -1;
    try {
      await runner.run(cells, (result) => {
        results.push(result);
        // the one oracle worker is killed after the first cell: the others need its replacement
        if (results.length === 1) exitCode = runner.pool.threads[0]?.terminate();
      });
      lost = runner.pool.workersLost;
    } finally {
      await runner.close();
    }
    assert.equal(await exitCode, 1, 'the worker was terminated');
    assert.equal(lost, 1, 'the pool lost one worker and replaced it');
    assert.ok(cells.length > 1, 'cells ran after the kill');
    assert.deepEqual(
      results.map((r) => r.cellId),
      cells.map((c) => c.id),
    );
    const reference = readResults(join(await single(), 'results-1-of-1.jsonl'));
    for (const r of results) {
      const same = reference.find((x) => x.cellId === r.cellId);
      assert.deepEqual(timeless(r), timeless(same as CellResult));
    }
  });

  it("refuses a second run of the same shard while the first is alive, and takes over a dead one's lock", async () => {
    // a finished run's folder, so the run that takes the lock over has nothing left to compute
    const dir = copyOf(await single());
    const lock = join(dir, 'results-1-of-1.jsonl.lock');
    writeFileSync(lock, `${hostname()} ${process.ppid}`);
    const refused = cli(['run', fixture.suitePath, '--out', dir, '--resume', ...common()], fixture.dir);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, new RegExp(`another run \\(pid ${process.ppid}\\) is writing this shard's results`));
    writeFileSync(lock, `${hostname()} 999999999`);
    const taken = cli(['run', fixture.suitePath, '--out', dir, '--resume', ...common(false)], fixture.dir);
    assert.equal(taken.status, 0, taken.stderr);
    assert.match(taken.stdout, /ran 0 cell\(s\), skipped 18 already done/);
    // A task requeued onto another node: the old node's process id means nothing here.
    writeFileSync(lock, `another-node ${process.ppid}`);
    const requeued = cli(['run', fixture.suitePath, '--out', dir, '--resume', ...common()], fixture.dir);
    assert.equal(requeued.status, 0, requeued.stderr);
    assert.ok(!existsSync(lock), 'the lock is released at the end');
  });

  it('drops a half-written last line when resuming', async () => {
    const file = join(copyOf(await single()), 'results-1-of-1.jsonl');
    const text = readFileSync(file, 'utf8');
    const lines = text.trimEnd().split('\n');
    writeFileSync(file, `${lines.slice(0, -1).join('\n')}\n${(lines[lines.length - 1] as string).slice(0, 40)}`);
    assert.equal(readResults(file, true).length, 17);
    assert.equal(
      readFileSync(file, 'utf8'),
      `${lines.slice(0, -1).join('\n')}\n`,
      'the cut line is gone from the file',
    );
  });

  it('merge refuses missing cells, duplicated cells and mixed suites', async () => {
    const dir = copyOf(await sharded());
    const shard2 = join(dir, 'results-2-of-3.jsonl');
    const saved = readFileSync(shard2, 'utf8');
    writeFileSync(shard2, '');
    assert.throws(
      () => mergeResults(dir),
      /cells have no result .*run the missing shards \(with --resume\) before merging/,
    );
    writeFileSync(shard2, saved + saved);
    assert.throws(() => mergeResults(dir), /cell\(s\) appear more than once/);
    const other = (JSON.parse(saved.split('\n')[0] as string) as { suiteHash: string }).suiteHash;
    writeFileSync(shard2, saved.replaceAll(other, '0000000000000000'));
    assert.throws(
      () => mergeResults(dir),
      new RegExp(
        'holds results of suite version 0000000000000000, but .* is version ' +
          '[0-9a-f]{16}; shards of different suites cannot be merged',
      ),
    );
    writeFileSync(shard2, saved);
    mergeResults(dir);
    const rubbishFiles = readdirSync(dir).filter((f) => f.startsWith('rubbish-'));
    assert.equal(rubbishFiles.length, 1, 'the target is measured by the one shard that owns its first group');
    const rubbishFile = join(dir, rubbishFiles[0] as string);
    const rubbish = readFileSync(rubbishFile, 'utf8');
    writeFileSync(rubbishFile, '');
    assert.throws(
      () => mergeResults(dir),
      /no rubbish-class record for target tiny-softmax; run the shard that owns it/,
    );
    writeFileSync(rubbishFile, rubbish + rubbish);
    assert.throws(() => mergeResults(dir), /target tiny-softmax has 2 rubbish-class records/);
    writeFileSync(rubbishFile, rubbish);
    mergeResults(dir);
  });

  it('writes every numeric column of results.csv as a bare number, never empty or quoted', async () => {
    // Parsed as pandas would (csv-parse): attack_params is JSON, quoted because it holds commas.
    const [header, ...rows] = parse(readFileSync(join(await single(), 'results.csv'), 'utf8')) as string[][];
    const text = new Set([
      'cell_id',
      'target',
      'strategy',
      'architecture',
      'reference',
      'attack',
      'attack_kind',
      'label_source',
      'composition',
      'attack_params',
      'target_class',
      'target_defence',
      'strategy_params',
      'target_fooled',
      'substitute_fooled',
    ]);
    const numeric = (header as string[]).map((name, i) => [name, i] as const).filter(([name]) => !text.has(name));
    assert.ok(numeric.length > 30, 'the rate columns are numeric');
    assert.equal(rows.length, 18);
    for (const row of rows)
      for (const [name, i] of numeric)
        assert.match(row[i] as string, /^-?\d+(\.\d+)?(e-?\d+)?$/, `${name} in row ${row[0]}`);
  });

  it('drops the timing columns for comparing runs, reading quoted labels with commas as one field', () => {
    const csv = 'cell,attack,crafting_seconds,eps\n0,"pgd(steps=40,randomStart=false)",1.5,0.1\n';
    const other = 'cell,attack,crafting_seconds,eps\n0,"pgd(steps=40,randomStart=false)",9.25,0.1\n';
    assert.equal(withoutVolatileColumns(csv), withoutVolatileColumns(other));
    assert.equal(withoutVolatileColumns(csv), '["cell","attack","eps"]\n["0","pgd(steps=40,randomStart=false)","0.1"]');
  });

  it('escapes CSV text that a spreadsheet would read as a formula', () => {
    const csv = toCsv({
      columns: ['name', 'value'],
      rows: [
        ['=SUM(A1)', 1],
        ['+1', 2],
        ['-x', 3],
        ['@me', 4],
        ['plain', -5],
      ],
    });
    assert.equal(csv, "name,value\n'=SUM(A1),1\n'+1,2\n'-x,3\n'@me,4\nplain,-5\n");
  });

  it('keeps bench/suite.schema.json in step with the TypeScript schema', async () => {
    const { schemaText, SCHEMA_FILE } = await import('../../src/runner/write-schema.js');
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), schemaText(), 'run `npm run schema`');
  });

  it('repro names the shipped reproduction suites when asked for an unknown one', () => {
    const r = cli(['repro', 'repro-nope'], fixture.dir);
    assert.equal(r.status, 2, r.stderr);
    const shipped = readdirSync(fileURLToPath(new URL('../../../bench/', import.meta.url)))
      .filter((f) => /^repro-.*\.json$/.test(f))
      .map((f) => f.slice(0, -5))
      .sort();
    assert.match(r.stderr, new RegExp(`unknown suite\\(s\\) repro-nope; shipped: ${shipped.join(', ')}`));
  });

  it('validates the shipped suites', () => {
    const bench = fileURLToPath(new URL('../../../bench/', import.meta.url));
    const suites = readdirSync(bench).filter((f) => f.endsWith('.json') && f !== 'suite.schema.json');
    assert.ok(suites.length >= 8, suites.join(', '));
    for (const file of suites) assert.doesNotThrow(() => loadSuite(join(bench, file)), file);
    const r = cli(['validate', join(bench, 'quickstart.json')], fixture.dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /bench\/quickstart.json: valid suite "quickstart", \d+ cells/);
  });
});
