import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { InferenceResult, InferenceTask, ThreadLoadedMessage } from './messages.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

/**
 * The "threads" isolation: a piscina pool of worker threads. A thread that dies on its own (an
 * uncaught exception, `process.exit`, out of memory) rejects its task and piscina starts another;
 * the caller retries. The pool itself never terminates a thread that may have onnxruntime's
 * native code on its stack: see close().
 */
export class ThreadPool {
  private readonly piscina: Piscina;
  /** Threads that have imported onnxruntime (their `loaded` message came), by threadId. */
  private readonly loaded = new Set<number>();
  private readonly running = new Set<Promise<unknown>>();
  private closing = false;
  lost = 0;

  constructor(workers: number) {
    this.piscina = new Piscina({
      filename: WORKER,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'disabled',
    });
    this.piscina.on('message', (message: ThreadLoadedMessage) => {
      if (message.kind === 'loaded') this.loaded.add(message.threadId);
    });
    this.piscina.on('workerDestroy', () => {
      if (!this.closing) this.lost++;
    });
    // An idle thread that dies of an uncaught exception is reported here, not through a task;
    // without a listener the EventEmitter would throw it into the main thread.
    this.piscina.on('error', () => undefined);
  }

  get completed(): number {
    return this.piscina.completed;
  }

  /** The worker threads, for tests. */
  get threads(): readonly { terminate(): Promise<number>; threadId: number }[] {
    return this.piscina.threads as unknown as { terminate(): Promise<number>; threadId: number }[];
  }

  /** One task; rejects if its thread died. The images' buffer is transferred. */
  run(task: InferenceTask): Promise<InferenceResult> {
    const pending = this.piscina.run(task, {
      transferList: [task.images.buffer as ArrayBuffer],
    }) as Promise<InferenceResult>;
    const settled = pending.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return pending;
  }

  /**
   * Waits for the tasks already running, then for every live thread to have finished importing
   * onnxruntime, and only then terminates the threads. A worker thread terminated while
   * onnxruntime-node's native code is on its stack (registering the addon in a fresh thread, or
   * loading a model) aborts the whole program (`terminate called after throwing an instance of
   * 'Napi::Error'`, exit 134); an idle thread past its import has none of it on its stack.
   */
  async close(): Promise<void> {
    this.closing = true;
    while (this.running.size > 0) await Promise.all([...this.running]);
    while (this.threads.some((t) => !this.loaded.has(t.threadId)))
      await new Promise((resolve) => setTimeout(resolve, 5));
    await this.piscina.destroy();
  }
}
