import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runGroupsInThreads } from '../../src/runner/group-threads.js';
import type { GroupWorkerData } from '../../src/runner/group-worker.js';
import type { Cell } from '../../src/runner/grid.js';
import type { CellResult } from '../../src/records/results.js';
import { tempDir } from '../fixtures/files.js';

/**
 * A stand-in group worker speaking the runner's protocol: it answers each cell with a result
 * whose id is the cell's, and misbehaves on the group whose target is named in `behaviour`.
 */
function fakeWorker(behaviour: 'crash' | 'throw-config' | 'throw-bug' | 'none'): URL {
  const file = join(tempDir('transferbench-fake-worker-'), 'worker.mjs');
  writeFileSync(
    file,
    `import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => {
  if (m.type === 'stop' || m.type === 'abort') { parentPort.close(); return; }
  if (m.cells[0].target === 'doomed') {
    if (${JSON.stringify(behaviour)} === 'crash') process.exit(7);
    if (${JSON.stringify(behaviour)} === 'throw-config') { parentPort.postMessage({ type: 'error', message: 'bad parameter', code: 'BAD_CONFIG' }); return; }
    if (${JSON.stringify(behaviour)} === 'throw-bug') { parentPort.postMessage({ type: 'error', message: 'x is undefined' }); return; }
  }
  for (const c of m.cells) parentPort.postMessage({ type: 'result', result: { cellId: c.id }, substituteQueries: 0 });
  parentPort.postMessage({ type: 'group-done' });
});
parentPort.postMessage({ type: 'ready' });
`,
  );
  return pathToFileURL(file);
}

const group = (target: string, n: number): Cell[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `${target}-${i}`,
    index: i,
    target,
    attack: 'fgsm',
    transforms: [],
    attackParams: {},
    eps: 0.1,
    labelSource: 'true',
    group: target,
    replicate: 0,
    seed: 0,
    substitute: {
      strategy: 'static-distillation',
      architecture: 'mlp',
      budget: 300,
      params: {},
      training: { epochs: 1, batchSize: 8, learningRate: 0.01 },
    },
  }));

const DATA = {} as GroupWorkerData;

describe('group worker threads', () => {
  it('runs every group and reports every cell once', async () => {
    const seen: string[] = [];
    await runGroupsInThreads(
      DATA,
      [group('a', 2), group('b', 3), group('c', 1)],
      2,
      (r: CellResult) => seen.push(r.cellId),
      fakeWorker('none'),
    );
    assert.deepEqual(seen.sort(), ['a-0', 'a-1', 'b-0', 'b-1', 'b-2', 'c-0']);
  });

  it('reports a thread that dies as WORKER_CRASHED, naming the group it was running', async () => {
    await assert.rejects(
      runGroupsInThreads(DATA, [group('a', 1), group('doomed', 2)], 1, () => {}, fakeWorker('crash')),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'WORKER_CRASHED');
        assert.equal(
          e.message,
          'a group worker thread crashed while running the cells of target ' +
            'doomed with substitute static-distillation/mlp/300 (exit code ' +
            '7); finished cells are kept: rerun with --resume',
        );
        return true;
      },
    );
  });

  it('keeps the code of an error a group raised, and names the group of an unexpected one', async () => {
    await assert.rejects(
      runGroupsInThreads(DATA, [group('doomed', 1)], 1, () => {}, fakeWorker('throw-config')),
      (e: Error & { code?: string }) => e.code === 'BAD_CONFIG' && e.message === 'bad parameter',
    );
    await assert.rejects(
      runGroupsInThreads(DATA, [group('doomed', 1)], 1, () => {}, fakeWorker('throw-bug')),
      (e: Error & { code?: string }) =>
        e.code === undefined &&
        e.message === 'target doomed with substitute static-distillation/mlp/300: x is undefined',
    );
  });
});
