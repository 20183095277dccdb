import { TransferbenchError } from '../common/errors.js';
import { channelsOf, type ResolvedTarget } from '../targets/descriptor.js';
import type { InferenceResult, InferenceTask } from './messages.js';
import { ProcessPool, type PoolWorkerState } from './process-pool.js';
import { ThreadPool } from './thread-pool.js';

export type { PoolWorkerState } from './process-pool.js';

/** Where the pool's onnxruntime sessions run (docs/targets.md, "The oracle", weighs the two). */
export const ORACLE_ISOLATIONS = ['threads', 'processes'] as const;
export type OracleIsolation = (typeof ORACLE_ISOLATIONS)[number];
export const DEFAULT_ISOLATION: OracleIsolation = 'threads';

export interface PoolOptions {
  /** Workers (default 2: this project's machines have 2 cores). */
  readonly workers?: number;
  /**
   * "threads" (default): piscina worker threads; a thread that dies on its own is replaced.
   * "processes": child processes; one killed from outside at any instant is replaced too.
   */
  readonly isolation?: OracleIsolation | undefined;
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

/**
 * A pool of onnxruntime sessions in worker threads or child processes (options.isolation). Large
 * requests are split across workers. A task whose worker dies is retried once on a fresh worker
 * and fails as WORKER_CRASHED the second time. Queries are counted by the oracle above the pool,
 * never by a worker, so a retry is never counted twice, whichever the isolation.
 */
export class OraclePool {
  private readonly backend: ThreadPool | ProcessPool;
  private readonly intraOpThreads: number;
  private readonly minChunk: number;
  private readonly maxChunk: number;
  private closing = false;
  readonly workers: number;
  readonly isolation: OracleIsolation;

  constructor(options: PoolOptions = {}) {
    this.workers = options.workers ?? 2;
    if (!Number.isInteger(this.workers) || this.workers < 1)
      throw new TransferbenchError('BAD_OPTION', `oracle workers: got ${this.workers}, expected a positive integer`);
    this.intraOpThreads = options.intraOpThreads ?? 1;
    this.minChunk = options.minChunk ?? 32;
    this.maxChunk = options.maxChunk ?? 256;
    if (!Number.isInteger(this.maxChunk) || this.maxChunk < 1)
      throw new TransferbenchError('BAD_OPTION', `oracle maxChunk: got ${this.maxChunk}, expected a positive integer`);
    this.isolation = options.isolation ?? DEFAULT_ISOLATION;
    if (!ORACLE_ISOLATIONS.includes(this.isolation))
      throw new TransferbenchError(
        'BAD_OPTION',
        `oracle isolation: got ${String(this.isolation)}, expected one of ${ORACLE_ISOLATIONS.join(', ')}`,
      );
    this.backend = this.isolation === 'threads' ? new ThreadPool(this.workers) : new ProcessPool(this.workers);
  }

  /** Workers that died (killed, crashed, out of memory) and were replaced since the pool started. */
  get workersLost(): number {
    return this.backend.lost;
  }

  /** onnxruntime runs finished so far (the slices requests were split into), for tests. */
  get runsCompleted(): number {
    return this.backend.completed;
  }

  /** The worker threads ("threads" isolation; empty otherwise), for tests. */
  get threads(): readonly { terminate(): Promise<number> }[] {
    return this.backend instanceof ThreadPool ? this.backend.threads : [];
  }

  /** The worker processes ("processes" isolation; empty otherwise), for tests that kill one on purpose. */
  get workerStates(): readonly PoolWorkerState[] {
    return this.backend instanceof ProcessPool ? this.backend.workerStates : [];
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
      parts.push(this.runWithRetry(target, images, start * size, n, size));
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
    offset: number,
    count: number,
    size: number,
  ): Promise<{ probabilities: Float32Array; classes: number }> {
    for (let attempt = 0; ; attempt++) {
      // A fresh, compact copy per attempt: a transferred buffer is gone from this thread, and
      // serialising a view would send its whole underlying buffer.
      const slice = images.slice(offset, offset + count * size);
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
        images: slice,
        count,
        intraOpThreads: this.intraOpThreads,
        ...(d.defence ? { defence: d.defence } : {}),
      };
      let result: InferenceResult;
      try {
        if (this.closing) throw new TransferbenchError('BAD_OPTION', 'the oracle pool is closed');
        result = await this.backend.run(task);
      } catch (error) {
        if (this.closing) throw error;
        // The worker died (exit, crash, out of memory, killed): a fresh one takes the task once more.
        if (attempt === 0) continue;
        throw new TransferbenchError(
          'WORKER_CRASHED',
          `model ${d.name}: an oracle pool worker died twice on the same request (${(error as Error).message})`,
        );
      }
      if (!result.ok) throw new TransferbenchError('BAD_MODEL', result.error);
      return { probabilities: result.probabilities, classes: result.classes };
    }
  }

  /** Refuses requests not yet started, lets running ones finish, and stops every worker (see the backends' close). */
  async close(): Promise<void> {
    this.closing = true;
    await this.backend.close();
  }
}
