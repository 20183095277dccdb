import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failure, main } from '../../src/cli/program.js';
import { skipBecause } from '../helpers/skip.js';
import { cli } from '../runner/fixture-suite.js';
import { faultFixture, type FaultFixture } from './faults-fixture.js';

/** What a row needs: the fixture and the run folders made once for the rows that merge or resume. */
interface Context extends FaultFixture {
  /** A finished one-shard run of suite `s` (2 cells); rows copy it before damaging it. */
  readonly single: string;
  /** Two shards of suite `two` (2 groups), 1/2 dealt by cost and 2/2 round robin. */
  readonly mixed: string;
  readonly two: string;
  copy(dir: string): string;
}

interface Fault {
  /** What is wrong. */
  readonly name: string;
  /** The command line, given the context (and whatever `setup` returned). */
  readonly args: (c: Context, prepared: string) => string[];
  /**
   * Run as its own process: what needs a pid of its own (a lock), sets process-wide state (a
   * backend), or must show it does not abort. Otherwise the command runs in this process (the
   * CLI's own main and failure mapping, without 1 s of start-up per row).
   */
  readonly own?: 'process' | 'script';
  readonly setup?: (c: Context) => string;
  readonly status: number;
  /** The one line on stderr after "transferbench: " (status 0: a note, or nothing). */
  readonly stderr: (c: Context, prepared: string) => RegExp;
  /** For a command that succeeds: what its output must say. */
  readonly stdout?: (c: Context, prepared: string) => RegExp;
  /** Why the row cannot run on this machine, if it cannot (it is then skipped, saying so). */
  readonly skip?: (c: Context, prepared: string) => string | undefined;
  /** What must hold afterwards (a lock released, a temporary gone). */
  readonly after?: (c: Context, prepared: string) => void;
}

const ORACLE = fileURLToPath(new URL('../../src/oracle/index.js', import.meta.url));
const DESCRIPTOR = fileURLToPath(new URL('../../src/targets/descriptor.js', import.meta.url));
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const common = (c: Context) => ['--targets-dir', c.targetsDir, '--cache-dir', join(c.dir, 'cache'), '--quiet'];
const validate = (c: Context, suite: string) => ['validate', suite, '--targets-dir', c.targetsDir];
const onTarget = (target: string) => (s: Record<string, unknown>) => {
  s.targets = [target];
};
/** Suite `s`: two transfer cells and one query cell (square-linf on 2 images), nothing to train. */
const withQueryCell = (s: Record<string, unknown>) => {
  s.queryAttacks = { budgets: [5], images: 2, attacks: [{ name: 'square-linf', eps: [0.1] }] };
};
const noTemporary = (dir: string) =>
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary left',
  );

/**
 * The fault table: every bad input and fault of issue 29, and those that already answered well,
 * each with its one line and exit status (2 for every TransferbenchError). A disk filling up
 * mid-run is test/runner/disk-full.test.ts (it needs a tmpfs mount and a whole run).
 */
const FAULTS: Fault[] = [
  // the command line
  {
    name: 'an unknown command',
    args: () => ['frobnicate'],
    status: 2,
    stderr: () => /^unknown command "frobnicate"; run `transferbench --help`$/,
  },
  {
    name: 'a bad --backend',
    args: () => ['backends', '--backend', 'gpu'],
    own: 'process',
    status: 2,
    stderr: () => /^--backend \(or TRANSFERBENCH_BACKEND\): got "gpu", expected one of tensorflow, wasm, cpu$/,
  },
  {
    name: 'a bad --engine',
    args: () => ['targets', 'build', '--engine', 'torch'],
    status: 2,
    stderr: () => /^--engine \(or TRANSFERBENCH_ENGINE\): got "torch", expected one of onnxruntime, tfjs, auto$/,
  },
  {
    name: 'a bad --train-threads',
    args: () => ['targets', 'build', '--train-threads', 'two'],
    status: 2,
    stderr: () => /^--train-threads \(or TRANSFERBENCH_TRAIN_THREADS\): got "two", expected a positive integer$/,
  },
  {
    name: 'a shard past N',
    own: 'process',
    args: (c) => ['run', c.suite('s', withQueryCell), '--shard', '4/3', ...common(c)],
    status: 2,
    stderr: () => /^--shard: got "4\/3", expected K\/N with 1 <= K <= N \(e\.g\. 2\/3\)$/,
  },
  {
    name: 'an unknown --shard-by',
    own: 'process',
    args: (c) => ['run', c.suite('s', withQueryCell), '--shard-by', 'size', ...common(c)],
    status: 2,
    stderr: () => /^--shard-by: got "size", expected "round-robin" \(the default\) or "cost"$/,
  },
  {
    name: 'a --parallel of 0',
    own: 'process',
    args: (c) => ['run', c.suite('s', withQueryCell), '--parallel', '0', ...common(c)],
    status: 2,
    stderr: () => /^--parallel: got "0", expected a positive integer$/,
  },
  {
    name: 'a suite file that does not exist',
    args: (c) => validate(c, join(c.dir, 'nope.json')),
    status: 2,
    stderr: (c) =>
      new RegExp(`^${literal(join(c.dir, 'nope.json'))}: cannot read the suite \\(ENOENT\\); check the path$`),
  },
  {
    name: 'a suite that is not JSON',
    setup: (c) => {
      writeFileSync(join(c.dir, 'broken.json'), '{ "name": ');
      return join(c.dir, 'broken.json');
    },
    args: (c, suite) => validate(c, suite),
    status: 2,
    stderr: (_, suite) => new RegExp(`^${literal(suite)}: not valid JSON \\(.*\\)$`),
  },
  // a descriptor against its model, and data against the target (validate needs no training)
  ...(
    [
      [
        'classNames with 5 entries for 10 outputs',
        'names-5',
        'classNames has 5 entries, but the model outputs 10 classes',
      ],
      [
        'classNames with 12 entries for 10 outputs',
        'names-12',
        'classNames has 12 entries, but the model outputs 10 classes',
      ],
      ['outputKind "probabilities" on a logits model', 'says-probabilities', 'outputKind is "probabilities", but'],
      [
        'outputKind "log-probabilities" on a logits model',
        'says-log-probabilities',
        'outputKind is "log-probabilities", but',
      ],
      [
        'layout NHWC with inputShape [28, 28, 1] on an NCHW model',
        'says-nhwc',
        'layout NHWC with inputShape [28, 28, 1], but',
      ],
      ['an output of [batch, 2, 5] described as 10 classes', 'rank3', 'is [batch, 2, 5]; a classifier'],
      ['an inputRange the wrong way round', 'range-reversed', 'inputRange'],
      [
        'a model that changed since its descriptor',
        'changed-model',
        'the model changed since the descriptor was written',
      ],
    ] as const
  ).map(
    ([name, target, message]): Fault => ({
      name,
      args: (c) => validate(c, c.suite(`v-${target}`, onTarget(target))),
      status: 2,
      stderr: (c) => new RegExp(`^${literal(join(c.targetsDir, target))}.*${literal(message)}`),
    }),
  ),
  {
    name: 'an image-folder label 12 for a 10-class target',
    args: (c) =>
      validate(
        c,
        c.suite('v-label-12', (s) => {
          s.dataset = 'label-12';
          s.evaluationSize = 2;
        }),
      ),
    status: 2,
    stderr: () => /has label 12, but the target has 10 classes \(0-9\)$/,
  },
  {
    name: 'an evaluationSize above the test split',
    args: (c) =>
      validate(
        c,
        c.suite('v-9000', (s) => (s.evaluationSize = 9000)),
      ),
    status: 2,
    stderr: () =>
      /evaluationSize is 9000, but the test split of mnist-embedded\/test has 2000 images; ask for at most 2000$/,
  },
  {
    name: 'a query attack starting from a substitute the suite does not have',
    args: (c) =>
      validate(
        c,
        c.suite('v-start', (s) => {
          s.queryAttacks = { budgets: [5], images: 2, attacks: [{ name: 'simba-dct', eps: [0.1], start: 'fgsm' }] };
        }),
      ),
    status: 2,
    stderr: () =>
      /queryAttacks\.attacks\[0\] \(simba-dct, start "fgsm"\) needs a substitute to start from or be guided by, and the suite has none with an architecture$/,
  },
  {
    name: 'a target that is not built (validate counts query cells too when it is)',
    own: 'process',
    args: (c) => ['run', c.suite('v-missing', onTarget('mnist-mlp')), ...common(c)],
    status: 2,
    stderr: (c) =>
      new RegExp(
        `^shard 1/1 on node ${literal(hostname())}: target mnist-mlp is not built here \\(${literal(join(c.targetsDir, 'mnist-mlp', 'target.json'))} is missing\\)`,
      ),
  },
  {
    name: 'validate counts query cells beside transfer cells (they were missing from its count)',
    args: (c) =>
      validate(
        c,
        c.suite('v-queries', (s) => {
          s.queryAttacks = { budgets: [5], images: 2, attacks: [{ name: 'square-linf', eps: [0.1] }] };
        }),
      ),
    status: 0,
    stderr: () => /^$/,
    stdout: () => /valid suite "v-queries", 3 cells \(2 transfer, 1 query\)/,
  },
  {
    name: "a resumed run counts query cells in what it skipped (they were missing from 'ran N cell(s)')",
    own: 'process',
    setup: (c) => c.copy(c.single),
    args: (c, out) => [
      'run',
      c.suite('s', withQueryCell),
      '--out',
      out,
      '--resume',
      ...common(c).filter((a) => a !== '--quiet'),
    ],
    status: 0,
    stderr: () => /^$/,
    stdout: () => /ran 0 cell\(s\), skipped 3 already done/,
  },
  {
    name: 'balance of a suite with a pretrained substitute (was: unknown architecture "cnn")',
    own: 'process',
    args: (c) => ['balance', c.suite('s', withQueryCell), '2'],
    status: 0,
    stderr: () => /^$/,
    stdout: () => /^max\/mean +1\.00 +1\.00$/m,
  },
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
        `^${literal(c.suite('s', withQueryCell))}: cannot hold the substitute cache \\(--cache-dir\\): it is a file, not a folder$`,
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
        `^${literal(join(mountPoint, 'out'))}: could not create the folder of the results \\(--out\\): read-only file ` +
          'system \\(EROFS\\)$',
      ),
    after: (_, mountPoint) => {
      spawnSync('umount', [mountPoint]);
    },
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
      /shard-1-of-2\.json: shard 1\/2 was started with --shard-by cost; resume it with --shard-by cost, or --out another folder$/,
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
      /results-1-of-1\.jsonl: transfer cell [0-9a-f]{16} has a result but no entry in the oracle's ledger \(ledger-1-of-1\.jsonl\); the ledger was deleted or cut: rerun its shard into a fresh --out$/,
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
      /ledger-1-of-1\.jsonl: holds the ledger of suite version 0000000000000000, not [0-9a-f]{16}; shards of different suites cannot be merged$/,
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
    name: 'a pool process killed during its first request, before its model loads (was: abort, exit 134)',
    own: 'script',
    args: (c) => [
      `import { OraclePool, TargetOracle } from ${JSON.stringify(ORACLE)};
       import { loadTarget } from ${JSON.stringify(DESCRIPTOR)};
       const pool = new OraclePool({ workers: 1 });
       const oracle = new TargetOracle(pool, loadTarget(${JSON.stringify(join(c.targetsDir, 'cnn', 'target.json'))}), { mode: 'label' });
       const pending = oracle.query(new Float32Array(784 * 4).fill(0.5), 'evaluation');
       process.kill(pool.workerStates[0].pid, 'SIGKILL');
       const answer = await pending;
       await pool.close();
       if (answer.count !== 4 || pool.workersLost !== 1) throw new Error('not answered once');`,
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
         try { await oracle.query(new Float32Array(729), 'evaluation'); } catch (e) { process.stderr.write('transferbench: ' + e.message + '\\n'); process.exitCode = 2; }
         await pool.close();`,
      ];
    },
    status: 2,
    stderr: () =>
      /inference failed for input shape \[1, 1, 27, 27\]: Got invalid dimensions for input: input for the following indices index: 2 Got: 27 Expected: 28 index: 3 Got: 27 Expected: 28 Please fix either the inputs\/outputs or the model\.$/,
  },
];

describe('the fault table: every fault ends in one line and its exit status', function () {
  this.timeout(600000);
  let context: Context;

  before(() => {
    const fixture = faultFixture();
    const run = (args: string[]) => {
      const r = cli(args, fixture.dir);
      assert.equal(r.status, 0, r.stderr);
    };
    const single = join(fixture.dir, 'single');
    const partial: Context = { ...fixture, single, mixed: join(fixture.dir, 'mixed'), two: '', copy: () => '' };
    run(['run', fixture.suite('s', withQueryCell), '--out', single, ...common(partial)]);
    // Two groups, and a substitute the cost model knows (it has no cost for a pretrained one's architecture).
    const two = fixture.suite('two', (s) => {
      s.targets = ['cnn', 'cnn-b'];
      s.substitutes = [
        { strategy: 'static-distillation', architectures: ['softmax'], budgets: [20], training: { epochs: 1 } },
      ];
    });
    run(['run', two, '--shard', '1/2', '--shard-by', 'cost', '--out', partial.mixed, ...common(partial)]);
    run(['run', two, '--shard', '2/2', '--out', partial.mixed, ...common(partial)]);
    let copies = 0;
    context = {
      ...partial,
      two,
      copy: (dir) => {
        const to = join(fixture.dir, `copy-${copies++}`);
        cpSync(dir, to, { recursive: true });
        return to;
      },
    };
  });

  for (const fault of FAULTS) {
    it(`${fault.name}: exit ${fault.status}`, async function () {
      const prepared = fault.setup?.(context) ?? '';
      const reason = fault.skip?.(context, prepared);
      if (reason !== undefined) skipBecause(this, reason);
      const args = fault.args(context, prepared);
      const r =
        fault.own === 'process'
          ? cli(args, context.dir)
          : fault.own === 'script'
            ? script(args[0] as string, context.dir)
            : await inProcess(args);
      assert.equal(r.status, fault.status, r.stderr);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      if (fault.status !== 0) {
        assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
        assert.match(lines[0] as string, /^transferbench: /);
      }
      assert.match((lines[0] ?? '').replace(/^transferbench: /, ''), fault.stderr(context, prepared));
      if (fault.stdout) assert.match(r.stdout, fault.stdout(context, prepared));
      fault.after?.(context, prepared);
    });
  }
});

/** A script run by node as an ES module (what a library user would write). */
function script(source: string, cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', source], {
    cwd,
    encoding: 'utf8',
    timeout: 120000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The CLI's main in this process, its output captured and the environment restored after (an
 * --engine flag travels in it): the same parsing, commands and failure mapping as the binary.
 */
async function inProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  let stdout = '';
  let stderr = '';
  const writes = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const status = await main(args);
    return { status, stdout, stderr };
  } catch (caught) {
    const { message, status } = failure(caught);
    return { status, stdout, stderr: `${stderr}transferbench: ${message}\n` };
  } finally {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
    Object.assign(process.env, env);
  }
}
