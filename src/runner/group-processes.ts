import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TransferbenchError } from '../common/errors.js';
import type { Cell } from './grid.js';
import type { OnCellResult } from './group.js';
import type { FromGroupWorker, GroupWorkerData, ToGroupWorker } from './group-worker.js';

const GROUP_WORKER = new URL('./group-worker.js', import.meta.url);

/** How messages name a group: its target and substitute. */
export function describeGroup(cells: readonly Cell[]): string {
  const first = cells[0];
  if (first === undefined) return 'an empty group';
  const s = first.substitute;
  return `target ${first.target} with substitute ${s.strategy}/${s.architecture}/${s.budget}`;
}

function crashed(group: readonly Cell[] | undefined, how: string): TransferbenchError {
  const which = group === undefined ? 'between groups' : `while running the cells of ${describeGroup(group)}`;
  return new TransferbenchError(
    'WORKER_CRASHED',
    `a group worker process crashed ${which} (${how}); finished cells are kept: rerun with --resume`,
  );
}

/**
 * Deals groups to `count` worker processes as they become free; the first error stops the run.
 * An error a group raises comes back as data and keeps its code; a process that dies is reported
 * as WORKER_CRASHED naming the group it was running. `workerFile` is the process's script (tests
 * pass one that crashes on purpose).
 *
 * Processes, not worker threads: ending a run early (an error in one group) must stop the others
 * at once, and a worker thread stopped while onnxruntime's native code runs in it (a substitute
 * training on the onnxruntime engine) aborts the whole program with exit 134, lock left behind.
 * A process can be killed at any instant.
 */
export async function runGroupsInProcesses(
  data: GroupWorkerData,
  groups: readonly Cell[][],
  count: number,
  onResult: OnCellResult,
  workerFile: URL = GROUP_WORKER,
): Promise<void> {
  const queue = [...groups];
  const workers: ChildProcess[] = Array.from({ length: count }, () =>
    fork(fileURLToPath(workerFile), [], { serialization: 'advanced', execArgv: [], stdio: 'inherit' }),
  );
  const send = (worker: ChildProcess, message: ToGroupWorker) => worker.send(message, () => undefined);
  for (const worker of workers) send(worker, { type: 'start', data });
  let failed = false;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let current: Cell[] | undefined;
            let stopping = false;
            const next = () => {
              current = queue.shift();
              if (current === undefined) {
                stopping = true;
                send(worker, { type: 'stop' });
                resolve();
              } else {
                send(worker, { type: 'group', cells: current });
              }
            };
            worker.on('message', (message: FromGroupWorker) => {
              if (message.type === 'ready' || message.type === 'group-done') next();
              else if (message.type === 'result') {
                // A result that cannot be written (a full disk) ends the run as an error, not as an
                // exception thrown out of the message event.
                try {
                  onResult(message.result, message.substituteQueries, message.charged);
                } catch (error) {
                  stopping = true;
                  reject(error);
                }
              } else if (message.code !== undefined) reject(new TransferbenchError(message.code, message.message));
              else
                reject(
                  new Error(`${current === undefined ? 'a group worker' : describeGroup(current)}: ${message.message}`),
                );
            });
            worker.on('error', (error) => reject(crashed(current, error.message)));
            worker.on('exit', (code, signal) => {
              if (!stopping) reject(crashed(current, signal ? `killed by ${signal}` : `exit code ${code}`));
            });
          }),
      ),
    );
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // After a failure the workers still running a group are killed; otherwise each was told to stop.
    await Promise.all(workers.map((worker) => exited(worker, failed)));
  }
}

/** Waits for a worker to exit, killing it now (`kill`) or if it has not stopped within 30 s. */
function exited(worker: ChildProcess, kill: boolean): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => worker.kill('SIGKILL'), 30000);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (kill) worker.kill('SIGKILL');
  });
}
