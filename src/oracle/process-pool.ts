import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TransferbenchError } from '../common/errors.js';
import type { InferenceResult, InferenceTask, PoolProcessMessage, TaskMessage } from './messages.js';

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
 * The "processes" isolation: onnxruntime sessions in child processes, started as tasks need them.
 * Images go out and probabilities come back over the IPC channel (V8 serialisation keeps them
 * Float32Arrays). A process can be killed at any instant, or crash in native code, without
 * touching the one it serves: its task is rejected and the next task starts a fresh process.
 */
export class ProcessPool {
  private readonly slots: (Slot | undefined)[];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closing = false;
  completed = 0;
  lost = 0;

  constructor(workers: number) {
    this.slots = Array.from({ length: workers }, () => undefined);
  }

  /** The pool's processes as they stand (a slot not yet started has no pid). */
  get workerStates(): readonly PoolWorkerState[] {
    return this.slots.map((s) => ({ pid: s?.child.pid, ready: s?.ready ?? false, busy: s?.job !== undefined }));
  }

  /** One task; rejects if its process died. */
  run(task: InferenceTask): Promise<InferenceResult> {
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

  /** Refuses queued tasks, lets running ones finish, and stops every process. */
  async close(): Promise<void> {
    this.closing = true;
    for (const job of this.queue.splice(0))
      job.reject(new TransferbenchError('BAD_OPTION', 'the oracle pool was closed before the request ran'));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (!slot || slot.dead) return;
        if (slot.job)
          await new Promise<void>((resolve) =>
            slot.child.once('exit', () => resolve()).once('message', () => resolve()),
          );
        const exited = new Promise<void>((resolve) => slot.child.once('exit', () => resolve()));
        if (slot.child.connected) slot.child.disconnect();
        const timer = setTimeout(() => slot.child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
