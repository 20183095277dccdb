import { parentPort, workerData } from 'node:worker_threads';
import { TransferbenchError, type ErrorCode } from '../common/errors.js';
import { useBackend } from '../compute/backend.js';
import { adoptEngine, type EngineInfo } from '../compute/engine.js';
import { GroupRunner, type GroupPaths } from './group.js';
import type { Cell } from './grid.js';
import type { LedgerEntry } from '../records/ledger.js';
import type { CellResult } from '../records/results.js';
import type { Suite } from './suite.js';

/** Messages between the runner and a group worker. */
export type ToGroupWorker = { type: 'group'; cells: Cell[] } | { type: 'stop' };
export type FromGroupWorker =
  | { type: 'ready' }
  | { type: 'result'; result: CellResult; substituteQueries: number; charged: LedgerEntry }
  | { type: 'group-done' }
  /** An error the group raised, as data: the thread keeps serving until told to stop. */
  | { type: 'error'; message: string; code?: ErrorCode; stack?: string };

export interface GroupWorkerData {
  readonly suite: Suite;
  readonly hash: string;
  readonly paths: GroupPaths;
  readonly backend?: string;
  readonly oracleWorkers: number;
  /** The training engine the main thread chose (measured once there, for `auto`). */
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

/** A worker thread with its own tfjs backend, data and oracle pool, running whole groups on request. */
async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const data = workerData as GroupWorkerData;
  const send = (message: FromGroupWorker) => port.postMessage(message);
  try {
    await useBackend(data.backend);
    adoptEngine(data.engine);
    const runner = new GroupRunner(data.suite, data.hash, data.paths, data.oracleWorkers);
    port.on('message', (message: ToGroupWorker) => {
      if (message.type === 'stop') {
        void runner.close().then(() => port.close());
        return;
      }
      runner
        .run(message.cells, (result, substituteQueries, charged) =>
          send({ type: 'result', result, substituteQueries, charged }),
        )
        .then(() => send({ type: 'group-done' }))
        .catch((error: Error) => send(errorMessage(error)));
    });
    send({ type: 'ready' });
  } catch (error) {
    send(errorMessage(error as Error));
  }
}

void main();
