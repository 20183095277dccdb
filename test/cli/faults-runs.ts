import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DESCRIPTOR, ORACLE, common, literal, noTemporary, withQueryCell, type Fault } from './faults-fixture.js';

/** The fault table's rows about files, runs, merges and the oracle pool. */
export const RUN_FAULTS: Fault[] = [
  // files and folders
  {
    name: '--out naming a file',
    own: 'process',
    args: (c) => ['run', c.suite('s', withQueryCell), '--out', c.suite('s', withQueryCell), ...common(c)],
    status: 2,
    stderr: (c) =>
      new RegExp(
        `^${literal(c.suite('s', withQueryCell))}: cannot hold the results \\(--out\\): it is a file, not a folder$`,
      ),
  },
  {
    name: '--cache-dir naming a file, refused before any substitute trains',
    own: 'process',
    args: (c) => [
      'run',
      c.suite('s', withQueryCell),
      '--out',
      join(c.dir, 'o-cache'),
      ...common(c),
      '--cache-dir',
      c.suite('s', withQueryCell),
    ],
    status: 2,
    stderr: (c) =>
      new RegExp(
        `^${literal(c.suite('s', withQueryCell))}: ` +
          `cannot hold the substitute cache \\(--cache-dir\\): it is a file, not a folder$`,
      ),
  },
  {
    name: '--out on a read-only disk (was: ENOENT, exit 1)',
    own: 'process',
    setup: (c) => {
      const mountPoint = join(c.dir, 'read-only');
      mkdirSync(mountPoint, { recursive: true });
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', mountPoint], {
        encoding: 'utf8',
      });
      return mounted.status === 0 ? mountPoint : '';
    },
    skip: (_, mountPoint) => (mountPoint === '' ? 'cannot mount a read-only tmpfs here' : undefined),
    args: (c, mountPoint) => ['run', c.suite('s', withQueryCell), '--out', join(mountPoint, 'out'), ...common(c)],
    status: 2,
    stderr: (_, mountPoint) =>
      new RegExp(
        `^${literal(join(mountPoint, 'out'))}: could not create the folder of the results \\(--out\\): ` +
          'read-only file system \\(EROFS\\)$',
      ),
    after: (_, mountPoint) => {
      spawnSync('umount', [mountPoint]);
    },
  },
  {
    name: 'a group failing under --parallel 2 while another trains on onnxruntime (was: abort, exit 134, lock left)',
    own: 'process',
    args: (c) => [
      'run',
      c.suite('parallel-fails', (s) => {
        s.substitutes = [
          { strategy: 'static-distillation', architectures: ['mlp'], budgets: [1500], training: { epochs: 30 } },
          // refused at once: the fixture is no zoo target, so its weights are unknown
          { strategy: 'white-box', architectures: ['softmax'], budgets: [0] },
        ];
      }),
      '--out',
      join(c.dir, 'parallel-fails'),
      '--parallel',
      '2',
      ...common(c),
    ],
    status: 2,
    stderr: () =>
      new RegExp(
        '^white-box: target cnn is not a zoo target built by transferbench, so ' +
          'its weights are unknown; use another strategy$',
      ),
    after: (c) =>
      assert.ok(!existsSync(join(c.dir, 'parallel-fails', 'results-1-of-1.jsonl.lock')), 'the lock is released'),
  },
  {
    name: 'results already there without --resume',
    own: 'process',
    setup: (c) => c.copy(c.single),
    args: (c, out) => ['run', c.suite('s', withQueryCell), '--out', out, ...common(c)],
    status: 2,
    stderr: () => /results-1-of-1\.jsonl already exists; pass --resume to continue it, or --out another folder$/,
  },
  {
    name: 'a shard another live run holds',
    own: 'process',
    setup: (c) => {
      const out = c.copy(c.single);
      writeFileSync(join(out, 'results-1-of-1.jsonl.lock'), `${hostname()} ${process.pid}`);
      return out;
    },
    args: (c, out) => ['run', c.suite('s', withQueryCell), '--out', out, '--resume', ...common(c)],
    status: 2,
    stderr: () => new RegExp(`^another run \\(pid ${process.pid}\\) is writing this shard's results`),
  },
  {
    name: 'a shard resumed with another --shard-by',
    setup: (c) => c.copy(c.mixed),
    args: (c, out) => ['run', c.two, '--shard', '1/2', '--out', out, '--resume', ...common(c)],
    own: 'process',
    status: 2,
    stderr: () =>
      new RegExp(
        'shard-1-of-2\\.json: shard 1\\/2 was started with --shard-by cost; ' +
          'resume it with --shard-by cost, or --out another folder$',
      ),
    after: (_, out) => assert.ok(!existsSync(join(out, 'results-1-of-2.jsonl.lock')), 'the lock is released'),
  },
  // merge
  {
    name: 'merge of a folder with no run',
    setup: (c) => {
      mkdirSync(join(c.dir, 'empty'), { recursive: true });
      return join(c.dir, 'empty');
    },
    args: (_, dir) => ['merge', dir],
    status: 2,
    stderr: (_, dir) => new RegExp(`^${literal(dir)}: no suite\\.json; run a suite with --out ${literal(dir)} first$`),
  },
  {
    name: 'merge of shards dealt with different --shard-by',
    setup: (c) => c.copy(c.mixed),
    args: (_, dir) => ['merge', dir],
    status: 2,
    stderr: (_, dir) =>
      new RegExp(
        `^${literal(dir)}: shard 2/2 was dealt with --shard-by round-robin, shard 1/2 with --shard-by cost; every ` +
          "shard of a run must be dealt the same way: remove shard 2/2's files \\(\\*-2-of-2\\.\\*\\) and rerun it " +
          'with --shard-by cost$',
      ),
  },
  {
    name: 'merge of shards of two different N',
    setup: (c) => {
      const dir = c.copy(c.single);
      cpSync(join(c.mixed, 'results-2-of-2.jsonl'), join(dir, 'results-2-of-2.jsonl'));
      return dir;
    },
    args: (_, dir) => ['merge', dir],
    status: 2,
    stderr: (_, dir) =>
      new RegExp(
        `^${literal(dir)}: holds shards of runs split 1 ways and 2 ways; every shard of a run must use the same ` +
          '--shard K/N: move the shards of the other run to their own folder$',
      ),
  },
  {
    name: "merge of a record that disagrees with the oracle's ledger",
    setup: (c) => {
      const dir = c.copy(c.single);
      const file = join(dir, 'results-1-of-1.jsonl');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"evaluated":20', '"evaluated":21'));
      return dir;
    },
    args: (_, dir) => ['merge', dir, '--no-report'],
    status: 2,
    stderr: (_, dir) =>
      new RegExp(
        `^${literal(join(dir, 'results-1-of-1.jsonl'))}: cell [0-9a-f]{16} reports 21 evaluated images, the ` +
          "oracle's ledger charged 20 evaluation queries for them; the record was edited or comes from another run: " +
          'rerun its shard into a fresh --out$',
      ),
  },
  {
    name: "merge of a record with no entry in the oracle's ledger",
    setup: (c) => {
      const dir = c.copy(c.single);
      const file = join(dir, 'ledger-1-of-1.jsonl');
      writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(1).join('\n'));
      return dir;
    },
    args: (_, dir) => ['merge', dir, '--no-report'],
    status: 2,
    stderr: () =>
      new RegExp(
        'results-1-of-1\\.jsonl: transfer cell [0-9a-f]{16} has a result but ' +
          "no entry in the oracle's ledger \\(ledger-1-of-1\\.jsonl\\); the " +
          'ledger was deleted or cut: rerun its shard into a fresh --out$',
      ),
  },
  {
    name: "merge of an oracle's ledger from another version of the suite",
    setup: (c) => {
      const dir = c.copy(c.single);
      const file = join(dir, 'ledger-1-of-1.jsonl');
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace(/"suiteHash":"[0-9a-f]+"/g, '"suiteHash":"0000000000000000"'),
      );
      return dir;
    },
    args: (_, dir) => ['merge', dir, '--no-report'],
    status: 2,
    stderr: () =>
      new RegExp(
        'ledger-1-of-1\\.jsonl: holds the ledger of suite version ' +
          '0000000000000000, not [0-9a-f]{16}; shards of different suites cannot ' +
          'be merged$',
      ),
  },
  {
    name: 'merge of a repeated shard file',
    setup: (c) => {
      const dir = c.copy(c.single);
      const file = join(dir, 'results-1-of-1.jsonl');
      writeFileSync(file, readFileSync(file, 'utf8').repeat(2));
      return dir;
    },
    args: (_, dir) => ['merge', dir, '--no-report'],
    status: 2,
    stderr: (_, dir) =>
      new RegExp(
        `^${literal(dir)}: 2 cell\\(s\\) appear more than once \\(e\\.g\\. .*\\); remove the repeated shard file$`,
      ),
  },
  {
    name: 'merge with a shard missing',
    setup: (c) => {
      const dir = c.copy(c.single);
      writeFileSync(join(dir, 'results-1-of-1.jsonl'), '');
      return dir;
    },
    args: (_, dir) => ['merge', dir, '--no-report'],
    status: 2,
    stderr: (_, dir) =>
      new RegExp(
        `^${literal(dir)}: 2 of 2 cells have no result \\(e\\.g\\. cell 0 [0-9a-f]{16}\\); run the missing shards ` +
          '\\(with --resume\\) before merging$',
      ),
  },
  {
    name: 'merge of a corrupted results line',
    setup: (c) => {
      const dir = c.copy(c.single);
      writeFileSync(join(dir, 'results-1-of-1.jsonl'), 'not json\n');
      return dir;
    },
    args: (_, dir) => ['merge', dir, '--no-report'],
    status: 2,
    stderr: () => /results-1-of-1\.jsonl: line 1 is not a JSON record; the file was edited or corrupted$/,
  },
  {
    name: 'merge after one killed mid-write: its temporaries are removed, with a note',
    setup: (c) => {
      const dir = c.copy(c.single);
      // what a SIGKILL during merge leaves: its results.csv temporary and its spill folder, named by a dead pid
      writeFileSync(join(dir, 'results.csv.999999999.tmp'), 'cell_id,');
      mkdirSync(join(tmpdir(), 'transferbench-merge-999999999-x'), { recursive: true });
      return dir;
    },
    args: (_, dir) => ['merge', dir, '--no-report'],
    status: 0,
    stderr: (_, dir) =>
      new RegExp(
        `^note: removed ${literal(join(dir, 'results.csv.999999999.tmp'))}, left by an interrupted merge or run$`,
      ),
    after: (_, dir) => {
      noTemporary(dir);
      assert.ok(!existsSync(join(tmpdir(), 'transferbench-merge-999999999-x')), 'the spill folder is removed');
    },
  },
  {
    name: 'the oracle pool closed during its first request, while its model loads (was: abort, exit 134)',
    own: 'script',
    args: (c) => [
      `import { OraclePool, TargetOracle } from ${JSON.stringify(ORACLE)};
       import { loadTarget } from ${JSON.stringify(DESCRIPTOR)};
       const pool = new OraclePool({ workers: 1 });
       const target = loadTarget(${JSON.stringify(join(c.targetsDir, 'cnn', 'target.json'))});
       const oracle = new TargetOracle(pool, target, { mode: 'label' });
       const pending = oracle.query(new Float32Array(784 * 4).fill(0.5), 'evaluation');
       const closed = pool.close();
       const answer = await pending.catch((e) => e);
       await closed;
       if (!(answer instanceof Error) && answer.count !== 4) throw new Error('neither answered nor refused');`,
    ],
    status: 0,
    stderr: () => /^$/,
  },
  {
    name: "onnxruntime's whole message, the dimension that differs included",
    own: 'script',
    args: (c) => {
      const descriptor = join(c.dir, 'wrong-shape.json');
      const d = JSON.parse(readFileSync(join(c.targetsDir, 'cnn', 'target.json'), 'utf8'));
      writeFileSync(
        descriptor,
        JSON.stringify({ ...d, model: join(c.targetsDir, 'cnn', 'model.onnx'), inputShape: [1, 27, 27] }),
      );
      return [
        `import { OraclePool, TargetOracle } from ${JSON.stringify(ORACLE)};
         import { loadTarget } from ${JSON.stringify(DESCRIPTOR)};
         const pool = new OraclePool({ workers: 1 });
         const oracle = new TargetOracle(pool, loadTarget(${JSON.stringify(descriptor)}), { mode: 'label' });
         try {
           await oracle.query(new Float32Array(729), 'evaluation');
         } catch (e) {
           process.stderr.write('transferbench: ' + e.message + '\\n');
           process.exitCode = 2;
         }
         await pool.close();`,
      ];
    },
    status: 2,
    stderr: () =>
      new RegExp(
        'inference failed for input shape \\[1, 1, 27, 27\\]: Got invalid ' +
          'dimensions for input: input for the following indices index: 2 Got: ' +
          '27 Expected: 28 index: 3 Got: 27 Expected: 28 Please fix either the ' +
          'inputs\\/outputs or the model\\.$',
      ),
  },
];
