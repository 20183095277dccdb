import { TransferbenchError, type ErrorCode } from '../common/errors.js';
import { useBackend } from '../compute/backend.js';
import { adoptEngine, type EngineInfo } from '../compute/engine.js';
import { GroupRunner, type GroupPaths } from './group.js';
import type { Cell } from './grid.js';
import type { LedgerEntry } from '../records/ledger.js';
import type { CellResult } from '../records/results.js';
import type { Suite } from './suite.js';

/** Messages between the runner and a group worker process. */
export type ToGroupWorker =
  | { type: 'start'; data: GroupWorkerData }
  | { type: 'group'; cells: Cell[] }
  | { type: 'stop' };
export type FromGroupWorker =
  | { type: 'ready' }
  | { type: 'result'; result: CellResult; substituteQueries: number; charged: LedgerEntry }
  | { type: 'group-done' }
  /** An error the group raised, as data: the process keeps serving until told to stop. */
  | { type: 'error'; message: string; code?: ErrorCode; stack?: string };

export interface GroupWorkerData {
  readonly suite: Suite;
  readonly hash: string;
  readonly paths: GroupPaths;
  readonly backend?: string;
  readonly oracleWorkers: number;
  /** The training engine the main process chose (measured once there, for `auto`). */
  readonly engine: EngineInfo;
}

function errorMessage(error: Error): FromGroupWorker {
  return {
    type: 'error',
    message: error.message,
    ...(error instanceof TransferbenchError ? { code: error.code } : {}),
    ...(error.stack ? { stack: error.stack } : {}),
  };
}

/** A parent gone mid-send (EPIPE) ends this process's work; it is not an error to print. */
function send(message: FromGroupWorker): void {
  if (process.connected) process.send?.(message, undefined, {}, (error) => error && process.exit(0));
}

/** A process with its own tfjs backend, data and oracle pool, running whole groups on request. */
let runner: GroupRunner | undefined;
process.on('disconnect', () => process.exit(0));
process.on('message', (message: ToGroupWorker) => {
  if (message.type === 'start') {
    const data = message.data;
    void (async () => {
      await useBackend(data.backend);
      adoptEngine(data.engine);
      runner = new GroupRunner(data.suite, data.hash, data.paths, data.oracleWorkers);
      send({ type: 'ready' });
    })().catch((error: Error) => send(errorMessage(error)));
  } else if (message.type === 'stop') {
    void (runner?.close() ?? Promise.resolve()).finally(() => process.disconnect());
  } else {
    (runner as GroupRunner)
      .run(message.cells, (result, substituteQueries, charged) =>
        send({ type: 'result', result, substituteQueries, charged }),
      )
      .then(() => send({ type: 'group-done' }))
      .catch((error: Error) => send(errorMessage(error)));
  }
});
