import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, commandOptions } from '../../src/cli/help.js';

const BIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Runs the built CLI as npx would: the file itself, through its shebang. */
function transferbench(...args: string[]) {
  return spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000 });
}

describe('transferbench command', () => {
  it('is executable after the build (npx runs it through its shebang)', () => {
    assert.ok((statSync(BIN).mode & 0o111) !== 0, 'dist/src/cli/main.js is not executable');
  });

  it('prints help: every command, and the path options the README uses', () => {
    const r = transferbench('--help');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^transferbench: black-box adversarial transfer benchmarks/);
    for (const command of COMMANDS)
      assert.match(
        r.stdout,
        new RegExp(`^  ${command.name} +${command.summary.slice(0, 20).replace(/[()|.*+?]/g, '\\$&')}`, 'm'),
      );
    assert.match(r.stdout, /--targets-dir DIR/);
    assert.match(r.stdout, /--cache-dir DIR/);
  });

  for (const command of COMMANDS) {
    it(`prints the usage, options and an example of \`${command.name} --help\``, () => {
      const r = transferbench(...command.name.split(' '), '--help');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.ok(r.stdout.startsWith(`Usage: ${command.usage}\n\n${command.summary}\n`), r.stdout);
      for (const [flag] of command.options) assert.ok(r.stdout.includes(`  ${flag}  `), `${flag} in ${r.stdout}`);
      assert.match(r.stdout, /\nExamples?:\n {2}transferbench /);
    });
  }

  it(
    'shows the three targets subcommands (build, missing, inspect) ' +
      'for `targets --help`, and `help run` as `run --help`',
    () => {
      assert.equal((transferbench('targets', '--help').stdout.match(/^Usage: /gm) ?? []).length, 3);
      assert.equal(transferbench('help', 'run').stdout, transferbench('run', '--help').stdout);
      assert.match(transferbench('run', '--help').stdout, /--targets-dir DIR .*\n.*--cache-dir DIR/);
    },
  );

  it('answers --help for an unknown command with exit code 2', () => {
    const r = transferbench('frobnicate', '--help');
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'transferbench: unknown command "frobnicate"; run `transferbench --help`\n');
  });

  it('lists backends: wasm loaded, native TensorFlow not installed with the reason', () => {
    const r = transferbench('backends');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wasm\s+@tensorflow\/tfjs-backend-wasm\s+loaded/);
    assert.match(r.stdout, /selected: (wasm|tensorflow)/);
  });

  it('lists the query attacks with their kinds, norms and parameter defaults', () => {
    const r = transferbench('list', 'query-attacks');
    assert.equal(r.status, 0, r.stderr);
    for (const name of ['square-linf', 'square-l2', 'simba-pixel', 'simba-dct', 'hop-skip-jump', 'boundary', 'p-rgf'])
      assert.match(r.stdout, new RegExp(`^${name}  \\[`, 'm'));
    assert.match(r.stdout, /^ +pInit +default 0\.05 /m);
  });

  it("refuses an option the command does not take, naming the command's own options", () => {
    const r = transferbench('list', 'substitutes', '--resume', '--shard', '9/2');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^transferbench: list: --resume is not an option of this command; it takes --backend, /);
    assert.doesNotMatch(r.stderr, /--shard-by|--parallel/);
    const inspect = transferbench('targets', 'inspect', 'x.onnx', '--parallel', '2');
    assert.equal(inspect.status, 2);
    assert.match(inspect.stderr, /targets inspect: --parallel is not an option of this command; it takes --write, /);
    // Every option a command's help lists is one it takes.
    for (const command of COMMANDS) {
      const flags = command.options.flatMap(([left]) => [...left.matchAll(/--([a-z-]+)/g)].map((m) => m[1]));
      const taken = commandOptions(command.name.split(' '));
      for (const flag of flags) assert.ok(taken?.has(flag as string), `${command.name} takes --${flag}`);
    }
  });

  it('with --engine auto, times both engines, trains on the faster and says what it measured', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-engine-auto-'));
    try {
      const zoo = join(dir, 'zoo.json');
      writeFileSync(
        zoo,
        JSON.stringify({
          dataset: 'mnist-embedded',
          targets: [
            {
              name: 'tiny',
              architecture: 'softmax',
              epochs: 1,
              trainImages: 256,
              batchSize: 64,
              learningRate: 0.005,
              seed: 1,
            },
          ],
        }),
      );
      const r = transferbench('targets', 'build', '--zoo', zoo, '--out', join(dir, 'targets'), '--engine', 'auto');
      assert.equal(r.status, 0, r.stderr);
      const line = new RegExp(
        'engine (onnxruntime|tfjs) \\(1 thread; chosen by measurement: ' +
          'cnn-small Adam step, batch 64: onnxruntime (\\d+) img\\/s, tfjs ' +
          '\\(wasm\\) (\\d+) img\\/s\\)',
      ).exec(r.stdout + r.stderr);
      assert.ok(line, r.stdout + r.stderr);
      const [chosen, onnx, tfjs] = [line[1], Number(line[2]), Number(line[3])];
      assert.equal(chosen, onnx >= tfjs ? 'onnxruntime' : 'tfjs');
      assert.ok(existsSync(join(dir, 'targets', 'tiny', 'model.onnx')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
