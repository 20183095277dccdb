import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TransferbenchError } from '../common/errors.js';
import { channelsOf, type ResolvedTarget } from '../targets/descriptor.js';
import type { InferenceResult, InferenceTask, PoolProcessMessage, TaskMessage } from './messages.js';

export interface PoolOptions {
  /** Pool processes (default 2: this project's machines have 2 cores). */
  readonly workers?: number;
  /** onnxruntime intra-op threads per worker (default 1). */
  readonly intraOpThreads?: number;
  /** Smallest slice a large request is split into, so tiny slices do not pay messaging twice. */
  readonly minChunk?: number;
  /**
   * Largest slice one onnxruntime run gets (default 256 images). A session's memory arena grows
   * to the largest batch it has run and keeps it: a query attack's 7,500-image probe slice left
   * over a GB per session of model C. Each image's answer is its own, so slicing changes none.
   */
  readonly maxChunk?: number;
}

/** What a test sees of one pool process, to kill it at a chosen moment. */
export interface PoolWorkerState {
  readonly pid: number | undefined;
  /** onnxruntime is loaded (the process sent `ready`). */
  readonly ready: boolean;
  /** A task is in flight on it. */
  readonly busy: boolean;
}

const POOL_PROCESS = fileURLToPath(new URL('./pool-process.js', import.meta.url));

interface Job {
  readonly task: InferenceTask;
  readonly resolve: (result: InferenceResult) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly child: ChildProcess;
  ready: boolean;
  dead: boolean;
  job?: { readonly id: number; readonly job: Job };
}

/**
 * A pool of onnxruntime sessions in child processes. Large requests are split across them;
 * images go out and probabilities come back over the IPC channel (V8 serialisation keeps them
 * Float32Arrays). A task whose process dies is retried once on a fresh process.
 *
 * Processes, not worker threads: a worker thread terminated while onnxruntime-node's native code
 * is on its stack aborts the whole program (node-addon-api rethrows the failed N-API call as a
 * C++ exception, `terminate called after throwing an instance of 'Napi::Error'`, exit 134; gdb
 * shows it in InferenceSessionWrap::Init while a fresh thread registers the addon). A process can
 * be killed at any instant, or crash in native code, without touching the one it serves.
 */
export class OraclePool {
  private readonly intraOpThreads: number;
  private readonly minChunk: number;
  private readonly maxChunk: number;
  private readonly slots: (Slot | undefined)[];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private completed = 0;
  private closing = false;
  private lost = 0;
  readonly workers: number;

  constructor(options: PoolOptions = {}) {
    this.workers = options.workers ?? 2;
    if (!Number.isInteger(this.workers) || this.workers < 1)
      throw new TransferbenchError('BAD_OPTION', `oracle workers: got ${this.workers}, expected a positive integer`);
    this.intraOpThreads = options.intraOpThreads ?? 1;
    this.minChunk = options.minChunk ?? 32;
    this.maxChunk = options.maxChunk ?? 256;
    if (!Number.isInteger(this.maxChunk) || this.maxChunk < 1)
      throw new TransferbenchError('BAD_OPTION', `oracle maxChunk: got ${this.maxChunk}, expected a positive integer`);
    this.slots = Array.from({ length: this.workers }, () => undefined);
  }

  /** Pool processes that died (killed, crashed, out of memory) and were replaced since the pool started. */
  get workersLost(): number {
    return this.lost;
  }

  /** onnxruntime runs finished so far (the slices requests were split into), for tests. */
  get runsCompleted(): number {
    return this.completed;
  }

  /** The pool's processes as they stand (a slot not yet started has no pid), for tests that kill one on purpose. */
  get workerStates(): readonly PoolWorkerState[] {
    return this.slots.map((s) => ({ pid: s?.child.pid, ready: s?.ready ?? false, busy: s?.job !== undefined }));
  }

  /** Class probabilities (count x classes) for NHWC [0,1] images. */
  async infer(
    target: ResolvedTarget,
    images: Float32Array,
    count: number,
  ): Promise<{ probabilities: Float32Array; classes: number }> {
    if (count === 0) return { probabilities: new Float32Array(0), classes: target.descriptor.classNames.length };
    const size = images.length / count;
    const chunk = Math.min(this.maxChunk, Math.max(this.minChunk, Math.ceil(count / this.workers)));
    const parts: Promise<{ probabilities: Float32Array; classes: number }>[] = [];
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      // A compact copy: serialising a view sends its whole underlying buffer.
      parts.push(this.runWithRetry(target, images.slice(start * size, (start + n) * size), n));
    }
    const answers = await Promise.all(parts);
    const classes = answers[0]?.classes ?? 0;
    const probabilities = new Float32Array(count * classes);
    let offset = 0;
    for (const answer of answers) {
      probabilities.set(answer.probabilities, offset);
      offset += answer.probabilities.length;
    }
    return { probabilities, classes };
  }

  private async runWithRetry(
    target: ResolvedTarget,
    images: Float32Array,
    count: number,
  ): Promise<{ probabilities: Float32Array; classes: number }> {
    const d = target.descriptor;
    const task: InferenceTask = {
      modelPath: target.modelPath,
      sha256: d.sha256,
      modelName: d.name,
      inputName: d.inputName,
      outputName: d.outputName,
      layout: d.layout,
      inputShape: d.inputShape,
      inputRange: d.inputRange,
      mean: d.normalization.mean.slice(0, channelsOf(d)),
      std: d.normalization.std.slice(0, channelsOf(d)),
      outputKind: d.outputKind,
      images,
      count,
      intraOpThreads: this.intraOpThreads,
      ...(d.defence ? { defence: d.defence } : {}),
    };
    for (let attempt = 0; ; attempt++) {
      let result: InferenceResult;
      try {
        result = await this.run(task);
      } catch (error) {
        if (this.closing) throw error;
        // The process died (killed, crashed, out of memory): a fresh one takes the task once more.
        if (attempt === 0) continue;
        throw new TransferbenchError(
          'WORKER_CRASHED',
          `model ${d.name}: an oracle pool process died twice on the same request (${(error as Error).message})`,
        );
      }
      if (!result.ok) throw new TransferbenchError('BAD_MODEL', result.error);
      return { probabilities: result.probabilities, classes: result.classes };
    }
  }

  private run(task: InferenceTask): Promise<InferenceResult> {
    if (this.closing) return Promise.reject(new TransferbenchError('BAD_OPTION', 'the oracle pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.dispatch();
    });
  }

  /** Hands queued jobs to idle processes, starting one in each empty slot as needed. */
  private dispatch(): void {
    while (this.queue.length > 0 && !this.closing) {
      let index = this.slots.findIndex((s) => s !== undefined && !s.dead && s.job === undefined);
      if (index < 0) index = this.slots.indexOf(undefined);
      if (index < 0) return;
      const slot = this.slots[index] ?? this.start(index);
      const job = this.queue.shift() as Job;
      const id = this.nextId++;
      slot.job = { id, job };
      slot.child.ref();
      slot.child.channel?.ref();
      // A send to a process that has just died fails here; its exit handler fails the job.
      slot.child.send({ id, task: job.task } satisfies TaskMessage, () => undefined);
    }
  }

  private start(index: number): Slot {
    const child = fork(POOL_PROCESS, [], {
      serialization: 'advanced',
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const slot: Slot = { child, ready: false, dead: false };
    this.slots[index] = slot;
    this.idle(slot);
    child.on('message', (message: PoolProcessMessage) => {
      if (message.kind === 'ready') {
        slot.ready = true;
        return;
      }
      const running = slot.job;
      if (running?.id !== message.id) return;
      slot.job = undefined;
      this.completed++;
      this.idle(slot);
      running.job.resolve(message.result);
      this.dispatch();
    });
    const died = (reason: string) => {
      if (slot.dead) return;
      slot.dead = true;
      if (this.slots[index] === slot) this.slots[index] = undefined;
      if (!this.closing) this.lost++;
      const running = slot.job;
      slot.job = undefined;
      running?.job.reject(new Error(`oracle pool process ${child.pid ?? '(not started)'} ${reason}`));
      this.dispatch();
    };
    child.once('exit', (code, signal) => died(signal ? `was killed (${signal})` : `exited with code ${code}`));
    // Only a process that never started reports an error without an exit.
    child.on('error', (error) => child.pid === undefined && died(`could not start: ${error.message}`));
    return slot;
  }

  /** An idle process holds nothing open: a program that forgets to close the pool still exits. */
  private idle(slot: Slot): void {
    slot.child.unref();
    slot.child.channel?.unref();
  }

  /** Stops every process; nothing stays open, so the process can exit by itself. */
  async close(): Promise<void> {
    this.closing = true;
    for (const job of this.queue.splice(0))
      job.reject(new TransferbenchError('BAD_OPTION', 'the oracle pool was closed before the request ran'));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (!slot || slot.dead) return;
        const exited = new Promise<void>((resolve) => slot.child.once('exit', () => resolve()));
        if (slot.child.connected) slot.child.disconnect();
        const timer = setTimeout(() => slot.child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
