import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandQueryGrid, shardQueryCells } from '../../src/runner/query-grid.js';
import { parseSuite } from '../../src/runner/suite.js';
import { readQueryResults } from '../../src/records/queries.js';
import { tinySuite } from './fixture-suite.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cli = (args: string[], cwd: string) =>
  spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 300000 });

describe('query-attack cells in suites', function () {
  this.timeout(600000);
  let fixture: Awaited<ReturnType<typeof tinySuite>>;
  let suitePath: string;
  const queryAttacks = {
    budgets: [5, 20, 60],
    images: 10,
    oracles: ['probabilities', 'label'],
    attacks: [
      { name: 'square-linf', eps: [0.1] },
      { name: 'hop-skip-jump', eps: [3], norm: 'l2' },
      { name: 'simba-dct', eps: [0.1], start: 'fgsm' },
      { name: 'p-rgf', eps: [0.1] },
      { name: 'nes', eps: [0.1], countSuccessChecks: false },
      { name: 'gfcs', eps: [0.1], ensemble: true, budgets: [5, 20] },
    ],
  };
  const common = () => ['--targets-dir', fixture.targetsDir, '--cache-dir', join(fixture.dir, 'cache'), '--quiet'];

  // The one-process run, made on first use: the tests that read it stand alone, each runnable by itself.
  let singleDir: string | undefined;
  const singleRun = (): string => {
    if (singleDir === undefined) {
      const dir = join(fixture.dir, 'single');
      const run = cli(['run', suitePath, '--out', dir, ...common()], fixture.dir);
      assert.equal(run.status, 0, run.stderr);
      singleDir = dir;
    }
    return singleDir;
  };

  before(async () => {
    fixture = await tinySuite('tiny-queries');
    suitePath = join(fixture.dir, 'tiny-queries-q.json');
    writeFileSync(
      suitePath,
      JSON.stringify({
        ...fixture.suite,
        substitutes: (fixture.suite.substitutes as unknown[]).slice(0, 2),
        attacks: [{ name: 'fgsm', eps: [0.1] }],
        labelSources: ['true'],
        queryAttacks,
      }),
    );
  });

  it(
    'expands query cells (score-based attacks skip the label-only ' +
      'oracle; hybrids take each substitute) and shards whole groups',
    () => {
      const suite = parseSuite(JSON.parse(readFileSync(suitePath, 'utf8')), 'q');
      const cells = expandQueryGrid(suite);
      // probabilities: square, hsja, simba-dct x 2 substitutes, p-rgf x 2, nes, gfcs on both at once; label: hsja.
      assert.equal(cells.length, 1 + 1 + 2 + 2 + 1 + 1 + 1);
      assert.deepEqual(
        cells.filter((c) => c.attack === 'gfcs').map((c) => c.substitute?.members?.map((m) => m.strategy)),
        [['ground-truth', 'static-distillation']],
      );
      assert.deepEqual(
        cells.filter((c) => !c.countSuccessChecks).map((c) => c.attack),
        ['nes'],
      );
      const shards = [1, 2].map((k) => shardQueryCells(cells, { k, n: 2 }));
      assert.deepEqual(
        shards
          .flat()
          .map((c) => c.id)
          .sort(),
        cells.map((c) => c.id).sort(),
      );
    },
  );

  it('runs query cells honestly, and 2 shards merged give the same query leaderboards as one run', () => {
    const single = singleRun();
    const sharded = join(fixture.dir, 'sharded');
    for (const k of [1, 2])
      assert.equal(cli(['run', suitePath, '--shard', `${k}/2`, '--out', sharded, ...common()], fixture.dir).status, 0);
    assert.equal(cli(['merge', sharded], fixture.dir).status, 0);
    for (const csv of ['leaderboard-queries.csv', 'crossover-queries.csv'])
      assert.equal(readFileSync(join(sharded, csv), 'utf8'), readFileSync(join(single, csv), 'utf8'), csv);
    const records = readQueryResults(join(single, 'queries-1-of-1.jsonl'));
    assert.equal(records.length, 9);
    const ensemble = records.find((r) => r.attack === 'gfcs');
    const singles = records.filter((r) => r.attack === 'p-rgf');
    assert.equal(ensemble?.substitute, singles.map((r) => r.substitute).join('+'), 'the ensemble names its members');
    assert.equal(
      ensemble?.substituteQueries,
      singles.reduce((sum, r) => sum + r.substituteQueries, 0),
      "and costs the members' queries",
    );
    for (const r of records) {
      const fooled = r.queriesToSuccess.filter((q) => q !== null);
      assert.ok(
        // With checks apart, an image the target already calls wrong is fooled at its first check, after 0 queries.
        fooled.every((q) => (q as number) >= (r.countSuccessChecks === false ? 0 : 1) && (q as number) <= 60),
        `${r.attack}: queries to success within the budget`,
      );
      // An entry may run at some of the suite's budgets only (gfcs at 5 and 20).
      assert.deepEqual(
        r.curve.map((c) => c.budget),
        r.attack === 'gfcs' ? [5, 20] : [5, 20, 60],
      );
      assert.equal(r.budget, r.attack === 'gfcs' ? 20 : 60);
      assert.ok(
        r.curve.every((c, i) => i === 0 || c.success.numerator >= (r.curve[i - 1]?.success.numerator as number)),
        `${r.attack}: the curve never falls`,
      );
      assert.equal(r.curve[r.curve.length - 1]?.success.numerator, r.success.numerator);
      assert.ok(r.meanQueries <= 60 && r.queriesPerSecond > 0);
      if (r.norm === 'linf') assert.ok(r.meanLinf <= r.eps + 1e-6);
      assert.equal(r.countSuccessChecks, r.attack !== 'nes', `${r.attack}: success checks counted unless switched off`);
      assert.equal((r.successChecks as number) > 0, r.attack === 'nes', `${r.attack}: only NES makes success checks`);
      const { meanQueriesSuccessful: mean, successesPerQuery: perQuery } = r.figures as NonNullable<typeof r.figures>;
      assert.ok(perQuery.low <= perQuery.value && perQuery.value <= perQuery.high, `${r.attack}: ASPQ in its interval`);
      if (mean) assert.ok(mean.low <= mean.value && mean.value <= mean.high && mean.value === r.meanQueriesSuccessful);
    }
    const hybrid = records.find((r) => r.start === 'transfer:fgsm' && r.substitute.startsWith('static-distillation'));
    assert.ok(
      hybrid &&
        hybrid.substituteQueries === 300 &&
        Math.abs(hybrid.queriesPerImageWithSubstitute - (hybrid.meanQueries + 30)) < 1e-6,
      "a hybrid adds its substitute's queries shared over its images",
    );
    const board = readFileSync(join(single, 'leaderboard-queries.csv'), 'utf8').trim().split('\n');
    const header = (board[0] as string).split(',');
    const checks = new Set(
      board
        .slice(1)
        .map((l) => l.split(','))
        .filter((f) => f[header.indexOf('method')]?.startsWith('nes '))
        .map((f) => f[header.indexOf('success_checks')]),
    );
    assert.deepEqual([...checks], ['apart'], 'the leaderboard states how NES counted its checks');
    const transfer = board
      .slice(1)
      .map((l) => l.split(','))
      .filter((f) => f[header.indexOf('kind')] === 'transfer');
    // Static distillation with 300 queries over 40 evaluation images: 300 / 40 + 1 = 8.5 queries per image, so it
    // appears from budget 20 on.
    assert.ok(
      transfer.some(
        (f) => f[header.indexOf('queries_per_image')] === '20' && f[header.indexOf('cost_per_image')] === '8.5',
      ),
    );
    assert.ok(
      !transfer.some(
        (f) => f[header.indexOf('queries_per_image')] === '5' && f[header.indexOf('cost_per_image')] === '8.5',
      ),
    );
    assert.ok(existsSync(join(single, 'plots', 'success-vs-queries.svg')));
    assert.match(readFileSync(join(single, 'index.html'), 'utf8'), /leaderboard-queries\.csv/);
  });

  it('resumes query cells without repeating or losing any, and merge refuses a missing one', () => {
    // A copy: truncating the shared run would change what the other tests read.
    const single = join(fixture.dir, 'resumed');
    cpSync(singleRun(), single, { recursive: true });
    const before = readFileSync(join(single, 'queries-1-of-1.jsonl'), 'utf8');
    const lines = before.trimEnd().split('\n');
    writeFileSync(join(single, 'queries-1-of-1.jsonl'), `${lines.slice(0, -2).join('\n')}\n`);
    assert.match(cli(['merge', single], fixture.dir).stderr, /2 of 9 query cells have no result/);
    assert.equal(cli(['run', suitePath, '--out', single, '--resume', ...common()], fixture.dir).status, 0);
    const after = readQueryResults(join(single, 'queries-1-of-1.jsonl'));
    assert.equal(after.length, 9);
    assert.equal(cli(['merge', single], fixture.dir).status, 0);
    assert.equal(
      readFileSync(join(single, 'ledger-1-of-1.jsonl'), 'utf8'),
      readFileSync(join(singleRun(), 'ledger-1-of-1.jsonl'), 'utf8'),
      "the oracle's ledger of the resumed run is byte-identical",
    );
  });

  it("merge checks each query record's per-image queries against the oracle's ledger", () => {
    const dir = join(fixture.dir, 'ledger-edited');
    cpSync(singleRun(), dir, { recursive: true });
    const file = join(dir, 'queries-1-of-1.jsonl');
    const saved = readFileSync(file, 'utf8');
    const ledger = readFileSync(join(dir, 'ledger-1-of-1.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; cellId: string; attack?: number[] })
      .filter((e) => e.kind === 'query');
    const records = readQueryResults(file);
    assert.ok(records.length > 1, 'the run has query cells');
    assert.equal(ledger.length, records.length, 'one ledger entry per query cell');
    for (const r of records) {
      const charged = ledger.find((e) => e.cellId === r.cellId)?.attack ?? [];
      assert.equal(charged.length, r.images);
      assert.ok(Math.abs(charged.reduce((a, b) => a + b, 0) / r.images - r.meanQueries) < 1e-6);
    }
    const first = records[0] as (typeof records)[number];
    writeFileSync(
      file,
      saved.replace(`"meanQueries":${first.meanQueries},`, `"meanQueries":${first.meanQueries / 2},`),
    );
    const merged = cli(['merge', dir], fixture.dir);
    assert.equal(merged.status, 2);
    assert.equal(
      merged.stderr.trim(),
      `transferbench: ${dir}: query cell ${first.cellId} reports ${first.meanQueries / 2} queries per image ` +
        'on average, the ' +
        `oracle's ledger charged ${first.meanQueries}; the record was edited or comes from another run: rerun its ` +
        'shard into a fresh --out',
    );
    const guided = records.find((r) => r.substituteQueries > 0);
    assert.ok(guided, 'a query cell guided by a trained substitute');
    const entry = ledger.find((e) => e.cellId === guided?.cellId) as { substituteTraining?: number };
    assert.equal(entry.substituteTraining, guided.substituteQueries, "the guides' training queries are in the ledger");
    const line = saved.split('\n').find((l) => l.includes(guided.cellId)) as string;
    writeFileSync(file, saved.replace(line, line.replace(/"substituteQueries":\d+/, '"substituteQueries":0')));
    const edited = cli(['merge', dir], fixture.dir);
    assert.equal(edited.status, 2);
    assert.match(
      edited.stderr,
      new RegExp(
        `query cell ${guided.cellId} reports 0 substitute-training queries, the oracle's ledger charged ` +
          `${guided.substituteQueries}`,
      ),
    );
  });

  it('names the offending key of a bad queryAttacks entry', () => {
    const raw = JSON.parse(readFileSync(suitePath, 'utf8'));
    assert.throws(
      () =>
        parseSuite(
          { ...raw, queryAttacks: { ...queryAttacks, attacks: [{ name: 'square-l2', eps: [1], norm: 'linf' }] } },
          'q.json',
        ),
      /q.json: queryAttacks.attacks\[0\]: square-l2: norm: got "linf", expected "l2"/,
    );
    assert.throws(
      () =>
        parseSuite(
          {
            ...raw,
            queryAttacks: { ...queryAttacks, attacks: [{ name: 'simba-dct', eps: [0.1], params: { step: 1 } }] },
          },
          'q.json',
        ),
      new RegExp(
        'queryAttacks.attacks\\[0\\]: simba-dct: parameter "step": got 1, ' +
          'expected one of the parameters it takes: stepSize, lowFrequencies, ' +
          'stride',
      ),
    );
    assert.throws(
      () => parseSuite({ ...raw, queryAttacks: { ...queryAttacks, images: 41 } }, 'q.json'),
      /queryAttacks.images is 41, more than evaluationSize 40/,
    );
    assert.throws(
      () =>
        parseSuite(
          {
            ...raw,
            queryAttacks: { ...queryAttacks, attacks: [{ name: 'nes', eps: [0.1], countSuccessChecks: 'no' }] },
          },
          'q.json',
        ),
      /q.json: queryAttacks.attacks\[0\].countSuccessChecks must be boolean/,
    );
    assert.throws(
      () =>
        parseSuite(
          { ...raw, queryAttacks: { ...queryAttacks, attacks: [{ name: 'nes', eps: [0.1], budgets: [5, 7] }] } },
          'q.json',
        ),
      /q.json: queryAttacks.attacks\[0\].budgets has 7, not among queryAttacks.budgets \(5, 20, 60\)/,
    );
    assert.throws(
      () =>
        parseSuite(
          { ...raw, queryAttacks: { ...queryAttacks, attacks: [{ name: 'square-linf', eps: [0.1], ensemble: true }] } },
          'q.json',
        ),
      new RegExp(
        'q.json: queryAttacks.attacks\\[0\\].ensemble needs a surrogate-guided ' +
          'hybrid without "start" \\(square-linf is score-based\\)',
      ),
    );
    // A hybrid guided by a strategy the suite does not train would have had its cells dropped without a word.
    assert.throws(
      () =>
        parseSuite(
          {
            ...raw,
            queryAttacks: { ...queryAttacks, attacks: [{ name: 'p-rgf', eps: [0.1], substitutes: ['jacobian'] }] },
          },
          'q.json',
        ),
      new RegExp(
        '^TransferbenchError: q.json: queryAttacks.attacks\\[0\\].substitutes ' +
          'names "jacobian", which the suite\'s substitutes do not have; they ' +
          'have "ground-truth", "static-distillation"$',
      ),
    );
    assert.throws(
      () =>
        parseSuite(
          {
            ...raw,
            substitutes: [
              {
                strategy: 'ensemble',
                members: [
                  { strategy: 'ground-truth', architecture: 'mlp', budget: 0 },
                  { strategy: 'white-box', architecture: 'mlp', budget: 0 },
                ],
              },
            ],
            queryAttacks: { ...queryAttacks, attacks: [{ name: 'square-linf', eps: [0.1], start: 'fgsm' }] },
          },
          'q.json',
        ),
      new RegExp(
        'queryAttacks.attacks\\[0\\] \\(square-linf, start "fgsm"\\) needs a ' +
          'substitute to start from or be guided by, and the suite has none but ' +
          'ensembles',
      ),
    );
    // A pretrained surrogate guides hybrids as a substitute trained here does: one cell per hybrid, named after it.
    const pretrained = parseSuite(
      {
        ...raw,
        substitutes: [{ strategy: 'pretrained', budgets: [0], params: { model: 'surrogates/torch-cnn/target.json' } }],
        queryAttacks: { ...queryAttacks, attacks: [{ name: 'simba-ods', eps: [0.1] }] },
      },
      'q.json',
    );
    assert.deepEqual(
      expandQueryGrid(pretrained).map((c) => c.substitute?.strategy),
      ['pretrained'],
    );
  });
});
