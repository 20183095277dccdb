import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runGroupsInProcesses } from '../../src/runner/group-processes.js';
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
    `const send = (m) => process.send(m);
process.on('message', (m) => {
  if (m.type === 'start') { send({ type: 'ready' }); return; }
  if (m.type === 'stop') { process.disconnect(); return; }
  if (m.cells[0].target === 'doomed') {
    if (${JSON.stringify(behaviour)} === 'crash') process.exit(7);
    if (${JSON.stringify(behaviour)} === 'throw-config') {
      send({ type: 'error', message: 'bad parameter', code: 'BAD_CONFIG' });
      return;
    }
    if (${JSON.stringify(behaviour)} === 'throw-bug') { send({ type: 'error', message: 'x is undefined' }); return; }
  }
  for (const c of m.cells) send({ type: 'result', result: { cellId: c.id }, substituteQueries: 0 });
  send({ type: 'group-done' });
});
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

describe('group worker processes', () => {
  it('runs every group and reports every cell once', async () => {
    const seen: string[] = [];
    await runGroupsInProcesses(
      DATA,
      [group('a', 2), group('b', 3), group('c', 1)],
      2,
      (r: CellResult) => seen.push(r.cellId),
      fakeWorker('none'),
    );
    assert.deepEqual(seen.sort(), ['a-0', 'a-1', 'b-0', 'b-1', 'b-2', 'c-0']);
  });

  it('reports a process that dies as WORKER_CRASHED, naming the group it was running', async () => {
    await assert.rejects(
      runGroupsInProcesses(DATA, [group('a', 1), group('doomed', 2)], 1, () => {}, fakeWorker('crash')),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'WORKER_CRASHED');
        assert.equal(
          e.message,
          'a group worker process crashed while running the cells of target ' +
            'doomed with substitute static-distillation/mlp/300 (exit code ' +
            '7); finished cells are kept: rerun with --resume',
        );
        return true;
      },
    );
  });

  it('keeps the code of an error a group raised, and names the group of an unexpected one', async () => {
    await assert.rejects(
      runGroupsInProcesses(DATA, [group('doomed', 1)], 1, () => {}, fakeWorker('throw-config')),
      (e: Error & { code?: string }) => e.code === 'BAD_CONFIG' && e.message === 'bad parameter',
    );
    await assert.rejects(
      runGroupsInProcesses(DATA, [group('doomed', 1)], 1, () => {}, fakeWorker('throw-bug')),
      (e: Error & { code?: string }) =>
        e.code === undefined &&
        e.message === 'target doomed with substitute static-distillation/mlp/300: x is undefined',
    );
  });
});
