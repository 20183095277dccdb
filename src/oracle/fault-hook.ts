import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A test-only fault hook: a pool worker (thread or process) kills itself at a chosen point, so the
 * fault tests can make a worker die on its own where no outside signal can reach it safely.
 *
 * `TRANSFERBENCH_TEST_WORKER_DEATH=<point>:<how>:<dir>` (unset in every production run: nothing
 * sets it but test/oracle/pool-faults.test.ts):
 *   point  start (this module evaluates, before onnxruntime is imported), load (a model's session
 *          is about to be created), batch (a loaded session is about to run), idle (just after a
 *          task was answered);
 *   how    exit (`process.exit(1)`: in a thread it stops the thread, in a process the process)
 *          or throw (an uncaught exception on the next turn of the event loop);
 *   dir    a directory of tokens: a worker dies only if it removes one, so a test that puts n
 *          files there gets exactly n deaths, wherever they land across workers and retries.
 */
const spec = process.env.TRANSFERBENCH_TEST_WORKER_DEATH;
const [deathPoint, how, dir] = spec ? (spec.split(':') as [string, string, string]) : [];

/** The points a worker can be told to die at. */
export type DeathPoint = 'start' | 'load' | 'batch' | 'idle';

/** Dies here if the hook names this point and a token is left; otherwise does nothing. */
export function testDeath(point: DeathPoint): void {
  if (point !== deathPoint || dir === undefined) return;
  const token = readdirSync(dir)[0];
  if (token === undefined) return;
  try {
    unlinkSync(join(dir, token));
  } catch {
    return; // another worker took it
  }
  if (how === 'throw')
    setImmediate(() => {
      throw new Error(`test-only death at ${point}`);
    });
  else process.exit(1);
}

testDeath('start');
