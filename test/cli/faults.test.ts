import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { failure, main } from '../../src/cli/program.js';
import { skipBecause } from '../helpers/skip.js';
import { cli } from '../runner/fixture-suite.js';
import { common, faultFixture, withQueryCell, type Context, type Fault } from './faults-fixture.js';
import { INPUT_FAULTS } from './faults-input.js';
import { RUN_FAULTS } from './faults-runs.js';

/**
 * The fault table: every bad input and fault of issue 29, and those that already answered well,
 * each with its one line and exit status (2 for every TransferbenchError). A disk filling up
 * mid-run is test/runner/disk-full.test.ts (it needs a tmpfs mount and a whole run).
 */
const FAULTS: Fault[] = [...INPUT_FAULTS, ...RUN_FAULTS];

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
