import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OraclePool, TargetOracle } from '../../src/oracle/index.js';
import type { DeathPoint } from '../../src/oracle/fault-hook.js';
import { loadTarget, type ResolvedTarget } from '../../src/targets/descriptor.js';
import { tempDir } from '../fixtures/files.js';
import { linearOnnxTarget, softmax, uniformImages } from './fixtures.js';

/** A 6x6x1, 4-class linear model: loads in a moment. */
const smallTarget = (dir: string) =>
  linearOnnxTarget(dir, {
    name: 'small',
    layout: 'NHWC',
    inputName: 'input',
    outputName: 'logits',
    h: 6,
    w: 6,
    c: 1,
    classes: 4,
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a pool's first slot until `ready` says so (a few ms at most). */
async function until(pool: OraclePool, ready: (state: OraclePool['workerStates'][number]) => boolean): Promise<void> {
  while (!ready(pool.workerStates[0] as OraclePool['workerStates'][number])) await sleep(1);
}

function kill(pool: OraclePool): void {
  const pid = pool.workerStates[0]?.pid;
  assert.ok(pid !== undefined, 'a pool process to kill');
  process.kill(pid, 'SIGKILL');
}

describe('oracle pool, "processes" isolation: a process SIGKILLed at any moment', () => {
  const dir = tempDir('transferbench-pool-faults-');
  // 12,288 inputs x 64 classes (3 MB of weights): loading it takes long enough to be killed during.
  const big = linearOnnxTarget(dir, {
    name: 'big',
    layout: 'NHWC',
    inputName: 'input',
    outputName: 'logits',
    h: 64,
    w: 64,
    c: 3,
    classes: 64,
  });
  const small = smallTarget(dir);
  const runs = 4;
  // The JavaScript reference is slow on the big model: each image set is computed once.
  const expectedOf = new Map<string, Float32Array>();

  /** One query under a kill; the answer must be the model's and counted once, the kill must be seen. */
  async function answeredDespite(
    pool: OraclePool,
    fixture: typeof big,
    target: ResolvedTarget,
    count: number,
    killAt: () => Promise<void>,
  ): Promise<void> {
    const size = target.descriptor.inputShape.reduce((a, b) => a * b, 1);
    const images = uniformImages(count, size, count);
    const classes = target.descriptor.classNames.length;
    const key = `${target.descriptor.name}/${count}`;
    if (!expectedOf.has(key)) expectedOf.set(key, softmax(fixture.logits(images, count), classes));
    const expected = expectedOf.get(key) as Float32Array;
    const oracle = new TargetOracle(pool, target, { mode: 'probabilities' });
    const lost = pool.workersLost;
    const pending = oracle.query(images, 'evaluation');
    await killAt();
    const answer = await pending;
    // Under load the kill can land just after the answer came back (an idle process): its exit is
    // then seen a moment later.
    await lostReaches(pool, lost + 1);
    assert.ok(answer.probabilities?.every((p, i) => Math.abs(p - (expected[i] as number)) < 1e-4));
    assert.equal(oracle.usage().byPurpose.evaluation, count, 'counted once');
  }

  it(`before onnxruntime is loaded, ${runs} times: the task is retried and answered`, async () => {
    for (let run = 0; run < runs; run++) {
      const pool = new OraclePool({ workers: 1, isolation: 'processes' });
      try {
        await answeredDespite(pool, small, loadTarget(small.descriptorPath), 8, async () => {
          assert.equal(pool.workerStates[0]?.ready, false, 'killed before its ready message');
          kill(pool);
        });
      } finally {
        await pool.close();
      }
    }
  });

  it(`while its model loads and while it runs a batch, ${runs} times each`, async () => {
    const pool = new OraclePool({ workers: 1, maxChunk: 4096, isolation: 'processes' });
    try {
      const target = loadTarget(big.descriptorPath);
      for (let run = 0; run < runs; run++) {
        // a fresh, ready process that has not loaded the model: the kill lands in session creation
        await until(pool, (s) => s.pid === undefined || s.ready);
        if (pool.workerStates[0]?.pid !== undefined) {
          kill(pool);
          await until(pool, (s) => s.pid === undefined);
        }
        await new TargetOracle(pool, loadTarget(small.descriptorPath), { mode: 'label' }).query(
          uniformImages(1, 36, 1),
          'evaluation',
        );
        await answeredDespite(pool, big, target, 4, async () => {
          await sleep(run);
          kill(pool);
        });
        // the model is loaded now: the kill lands in a batch of 96 images
        await answeredDespite(pool, big, target, 96, async () => {
          await until(pool, (s) => s.busy);
          await sleep(run);
          kill(pool);
        });
      }
    } finally {
      await pool.close();
    }
  });

  it(`idle after its model loaded, ${runs} times: the next request starts a fresh one`, async () => {
    const pool = new OraclePool({ workers: 1, isolation: 'processes' });
    try {
      const target = loadTarget(small.descriptorPath);
      for (let run = 0; run < runs; run++) {
        await new TargetOracle(pool, target, { mode: 'label' }).query(uniformImages(3, 36, run), 'evaluation');
        const lost = pool.workersLost;
        kill(pool);
        await until(pool, (s) => s.pid === undefined);
        assert.equal(pool.workersLost, lost + 1);
        const answer = await new TargetOracle(pool, target, { mode: 'label' }).query(
          uniformImages(3, 36, run),
          'evaluation',
        );
        assert.equal(answer.count, 3);
      }
    } finally {
      await pool.close();
    }
  });

  it('killed twice on the same request: fails that request with one line, then serves the next', async () => {
    const pool = new OraclePool({ workers: 1, isolation: 'processes' });
    try {
      const target = loadTarget(small.descriptorPath);
      const oracle = new TargetOracle(pool, target, { mode: 'label' });
      const pending = oracle.query(uniformImages(2, 36, 1), 'evaluation');
      const first = pool.workerStates[0]?.pid;
      kill(pool);
      await until(pool, (s) => s.pid !== undefined && s.pid !== first);
      kill(pool);
      await assert.rejects(pending, (e: Error & { code?: string }) => {
        assert.equal(e.code, 'WORKER_CRASHED');
        assert.match(
          e.message,
          new RegExp(
            '^model small: an oracle pool worker died twice on the same request ' +
              '\\(oracle pool process \\d+ was killed \\(SIGKILL\\)\\)$',
          ),
        );
        return true;
      });
      assert.equal(oracle.usage().byPurpose.evaluation, 0, 'nothing answered, nothing counted');
      assert.equal((await oracle.query(uniformImages(2, 36, 1), 'evaluation')).count, 2);
    } finally {
      await pool.close();
    }
  });
});

/** Sets the test-only death hook (src/oracle/fault-hook.ts) for the pools made inside `body`, with `deaths` tokens. */
async function withDeaths(point: DeathPoint, how: 'exit' | 'throw', deaths: number, body: () => Promise<void>) {
  const dir = mkdtempSync(join(tempDir('transferbench-deaths-'), 'tokens-'));
  for (let i = 0; i < deaths; i++) writeFileSync(join(dir, `token-${i}`), '');
  process.env.TRANSFERBENCH_TEST_WORKER_DEATH = `${point}:${how}:${dir}`;
  try {
    await body();
  } finally {
    delete process.env.TRANSFERBENCH_TEST_WORKER_DEATH;
  }
  assert.deepEqual(readdirSync(dir), [], 'every death token was taken: the worker did die');
}

/** Waits until the pool has seen `lost` deaths (a death while idle is reported a moment later). */
async function lostReaches(pool: OraclePool, lost: number): Promise<void> {
  for (let waited = 0; pool.workersLost < lost; waited += 5) {
    assert.ok(waited < 30000, `the pool saw ${pool.workersLost} deaths, expected ${lost}`);
    await sleep(5);
  }
  assert.equal(pool.workersLost, lost);
}

describe('oracle pool, "threads" isolation: a worker thread that dies on its own at any moment', () => {
  const small = smallTarget(tempDir('transferbench-thread-faults-'));
  const runs = 3;
  const points: readonly DeathPoint[] = ['start', 'load', 'batch', 'idle'];

  /** One probabilities query: the model's answer, counted exactly once per image. */
  async function answered(pool: OraclePool, count: number, seed: number): Promise<void> {
    const images = uniformImages(count, 36, seed);
    const oracle = new TargetOracle(pool, loadTarget(small.descriptorPath), { mode: 'probabilities' });
    const answer = await oracle.query(images, 'evaluation');
    const expected = softmax(small.logits(images, count), 4);
    assert.ok(
      answer.probabilities?.every((p, i) => Math.abs(p - (expected[i] as number)) < 1e-5),
      'the answers',
    );
    assert.equal(oracle.usage().byPurpose.evaluation, count, 'counted once');
  }

  for (const point of points) {
    for (const how of ['exit', 'throw'] as const) {
      it(`dies at ${point} (${how}), ${runs} times, 1 and 2 threads: replaced, answered, counted once`, async () => {
        for (let run = 0; run < runs; run++) {
          for (const workers of [1, 2]) {
            await withDeaths(point, how, 1, async () => {
              const pool = new OraclePool({ workers, minChunk: 4 });
              try {
                await answered(pool, 16, run);
                // After an idle death the next request meets the replacement (or the dying thread, and is retried).
                if (point === 'idle') await lostReaches(pool, 1);
                await answered(pool, 16, run + 100);
                await lostReaches(pool, 1);
              } finally {
                await pool.close();
              }
            });
          }
        }
      });
    }
  }

  it('dies twice on the same request: WORKER_CRASHED as data for that request, the next one answered', async () => {
    await withDeaths('batch', 'exit', 2, async () => {
      const pool = new OraclePool({ workers: 1 });
      try {
        const oracle = new TargetOracle(pool, loadTarget(small.descriptorPath), { mode: 'label' });
        await assert.rejects(oracle.query(uniformImages(2, 36, 1), 'evaluation'), (e: Error & { code?: string }) => {
          assert.equal(e.code, 'WORKER_CRASHED');
          assert.match(e.message, /^model small: an oracle pool worker died twice on the same request/);
          return true;
        });
        assert.equal(oracle.usage().byPurpose.evaluation, 0, 'nothing answered, nothing counted');
        assert.equal((await oracle.query(uniformImages(2, 36, 1), 'evaluation')).count, 2);
        await lostReaches(pool, 2);
      } finally {
        await pool.close();
      }
    });
  });

  it('closed right after it starts, while its threads still import onnxruntime, 5 times: no abort', async () => {
    for (let run = 0; run < 5; run++) await new OraclePool({ workers: 2 }).close();
  });
});
