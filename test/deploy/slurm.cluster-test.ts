import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withoutVolatileColumns } from '../../src/report/leaderboards.js';
import { tinySuite } from '../runner/fixture-suite.js';
import { startSlurmCluster, slurmUnavailable, type SlurmCluster } from './slurm-cluster.js';

// `npm run test:slurm` (and .ci/run): a real one-node Slurm runs deploy/slurm/run.sh as a
// researcher would. Kept out of `npm test`, whose 2-minute budget it would take most of.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const RUN_SH = join(ROOT, 'deploy', 'slurm', 'run.sh');
const CSVS = [
  'rubbish.csv',
  'results.csv',
  'leaderboard-targets.csv',
  'leaderboard-attacks.csv',
  'leaderboard-substitutes.csv',
  'transfer-matrix.csv',
];
const FINISHED = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
]);
/** Cells per shard: 3 substitutes are 3 groups, one per shard, of 6 attack settings x 2 label sources. */
const CELLS_PER_SHARD = 12;

function run(command: string, args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(command, args, { env, encoding: 'utf8', timeout: 300000 });
  assert.equal(r.status, 0, `${command} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('deploy/slurm/run.sh on a real one-node Slurm', function () {
  this.timeout(900000);
  let cluster: SlurmCluster | undefined;
  let dir = '';
  let suitePath = '';
  let targetsDir = '';
  let env: NodeJS.ProcessEnv = {};

  /**
   * JobState of a job, or of each task of an array in task order ("2:CANCELLED"; pending tasks still grouped as
   * "[2-3]").
   */
  const states = (job: string): string[] =>
    run('scontrol', ['show', 'job', '-o', job], env)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const state = /JobState=(\S+)/.exec(line)?.[1] ?? 'UNKNOWN';
        const task = /ArrayTaskId=(\S+)/.exec(line)?.[1];
        return task === undefined ? state : `${task}:${state}`;
      })
      .sort();
  const waitFinished = async (job: string): Promise<string[]> => {
    for (;;) {
      const now = states(job);
      if (now.every((s) => FINISHED.has(s.replace(/^.*:/, '')))) return now;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const submit = (args: string[]) => {
    const stdout = run('bash', [RUN_SH, ...args], env);
    const array = /^array job (\d+)/m.exec(stdout)?.[1];
    const merge = /^merge job (\d+)/m.exec(stdout)?.[1];
    assert.ok(array !== undefined && merge !== undefined, `run.sh printed no job ids:\n${stdout}`);
    return { array, merge, stdout };
  };
  // Byte-identical but for the timing columns, which differ between any two runs.
  const sameCsvs = (out: string, reference: string) => {
    const read = (dir: string, csv: string) => withoutVolatileColumns(readFileSync(join(dir, csv), 'utf8'));
    for (const csv of CSVS) assert.equal(read(out, csv), read(reference, csv), `${out}/${csv}`);
  };
  const lines = (file: string) =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
      : [];

  before(async function () {
    const reason = slurmUnavailable();
    if (reason !== undefined) {
      process.stderr.write(`    skipped: ${reason}\n`);
      this.skip();
    }
    cluster = await startSlurmCluster();
    const fixture = await tinySuite('slurm');
    dir = fixture.dir;
    targetsDir = fixture.targetsDir;
    // Long enough shards (~12 cells) to cancel one in the middle of its work.
    const suite = {
      ...fixture.suite,
      evaluationSize: 200,
      examples: 2,
      attacks: [
        { name: 'fgsm', eps: [0.1, 0.25] },
        { name: 'bim', eps: [0.05, 0.1, 0.15, 0.2], params: { steps: 20 } },
      ],
    };
    suitePath = join(dir, 'slurm-suite.json');
    writeFileSync(suitePath, JSON.stringify(suite, null, 2));
    env = { ...cluster.env, TARGETS_DIR: targetsDir };
    run(
      process.execPath,
      [
        CLI,
        'run',
        suitePath,
        '--out',
        join(dir, 'single'),
        '--targets-dir',
        targetsDir,
        '--cache-dir',
        join(dir, 'single-cache'),
        '--quiet',
      ],
      env,
    );
  });

  after(async () => {
    await cluster?.stop();
  });

  it('runs 3 shards as an array; the dependent merge gives CSVs byte-identical to one process', async () => {
    const out = join(dir, 'plain');
    const { array, merge, stdout } = submit([suitePath, out, '3']);
    assert.doesNotMatch(stdout, /build job/, 'every target is built: no build job');
    assert.match(stdout, /squeue --name=transferbench-plain/);
    assert.match(stdout, new RegExp(`sacct -j ${array},${merge} `));
    assert.deepEqual(await waitFinished(merge), ['COMPLETED'], readdirSync(join(out, 'logs')).join(', '));
    assert.deepEqual(await waitFinished(array), ['1:COMPLETED', '2:COMPLETED', '3:COMPLETED']);
    for (const k of [1, 2, 3]) assert.equal(lines(join(out, `results-${k}-of-3.jsonl`)).length, CELLS_PER_SHARD);
    sameCsvs(out, join(dir, 'single'));
  });

  it(
    'a task cancelled mid-shard and resubmitted resumes its own results ' + 'file: same CSVs, nothing lost or repeated',
    async () => {
      const out = join(dir, 'cancelled');
      const first = submit([suitePath, out, '3']);
      const file = join(out, 'results-2-of-3.jsonl');
      while (lines(file).length === 0) {
        assert.ok(!states(first.array).includes('2:COMPLETED'), 'task 2 ended before it was seen writing a cell');
        await new Promise((r) => setTimeout(r, 100));
      }
      run('scancel', [`${first.array}_2`], env);
      assert.deepEqual(await waitFinished(first.array), ['1:COMPLETED', '2:CANCELLED', '3:COMPLETED']);
      assert.deepEqual(await waitFinished(first.merge), ['CANCELLED'], 'the merge never runs after a cancelled task');
      const kept = lines(file);
      assert.ok(
        kept.length > 0 && kept.length < CELLS_PER_SHARD,
        `cancelled mid-shard: ${kept.length} of ${CELLS_PER_SHARD} cells done`,
      );

      const again = submit(['--tasks', '2', suitePath, out, '3']);
      assert.deepEqual(await waitFinished(again.merge), ['COMPLETED']);
      const resumed = lines(file);
      assert.deepEqual(resumed.slice(0, kept.length), kept, 'the cells done before the cancel are kept as they were');
      const ids = resumed.map((l) => (JSON.parse(l) as { cellId: string }).cellId);
      assert.equal(ids.length, CELLS_PER_SHARD);
      assert.equal(new Set(ids).size, ids.length, 'no cell run twice');
      const log = readFileSync(join(out, 'logs', `transferbench-cancelled-${again.array}_2.out`), 'utf8');
      assert.match(
        log,
        new RegExp(`ran ${CELLS_PER_SHARD - kept.length} cell\\(s\\), skipped ${kept.length} already done`),
      );
      sameCsvs(out, join(dir, 'single'));
    },
  );

  it('a task whose node lacks a built target fails with a line naming the target and the node', async () => {
    const out = join(dir, 'no-targets');
    mkdirSync(out);
    const job = run(
      'sbatch',
      ['--parsable', '--array=2', `--output=${out}/%A_%a.out`, join(ROOT, 'deploy', 'slurm', 'run-suite.sbatch')],
      {
        ...env,
        SUITE: suitePath,
        OUT: out,
        SHARDS: '3',
        TRANSFERBENCH_ROOT: ROOT,
        TARGETS_DIR: join(dir, 'not-on-this-node'),
      },
    ).trim();
    assert.deepEqual(await waitFinished(job), ['2:FAILED']);
    const log = readFileSync(join(out, `${job}_2.out`), 'utf8');
    assert.match(
      log,
      new RegExp(
        `shard 2/3 on node ${cluster?.node}: target tiny-softmax is not ` +
          `built here \\(.*not-on-this-node/tiny-softmax/target.json is ` +
          `missing\\)`,
      ),
    );
  });
});
