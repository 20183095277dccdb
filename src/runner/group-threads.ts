import { Worker } from 'node:worker_threads';
import { TransferbenchError } from '../common/errors.js';
import type { OnCellResult } from './group.js';
import type { Cell } from './grid.js';
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
    `a group worker thread crashed ${which} (${how}); finished cells are kept: rerun with --resume`,
  );
}

/**
 * Deals groups to `count` worker threads as they become free; the first error stops the run.
 * An error a group raises comes back as data and keeps its code; a thread that dies is reported
 * as WORKER_CRASHED naming the group it was running. `workerFile` is the thread's script (tests
 * pass one that crashes on purpose).
 */
export async function runGroupsInThreads(
  data: GroupWorkerData,
  groups: readonly Cell[][],
  count: number,
  onResult: OnCellResult,
  workerFile: URL = GROUP_WORKER,
): Promise<void> {
  const queue = [...groups];
  const threads = Array.from({ length: count }, () => new Worker(workerFile, { workerData: data }));
  try {
    await Promise.all(
      threads.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let current: Cell[] | undefined;
            let stopping = false;
            const next = () => {
              current = queue.shift();
              if (current === undefined) {
                stopping = true;
                worker.postMessage({ type: 'stop' } satisfies ToGroupWorker);
                resolve();
              } else {
                worker.postMessage({ type: 'group', cells: current } satisfies ToGroupWorker);
              }
            };
            worker.on('message', (message: FromGroupWorker) => {
              if (message.type === 'ready' || message.type === 'group-done') next();
              else if (message.type === 'result') {
                // A result that cannot be written (a full disk) ends the run as an error, not as an
                // exception thrown out of the worker's message event.
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
            worker.on('exit', (code) => {
              if (!stopping) reject(crashed(current, `exit code ${code}`));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
