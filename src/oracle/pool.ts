import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { TransferbenchError } from '../common/errors.js';
import { channelsOf, type ResolvedTarget } from '../targets/descriptor.js';
import type { InferenceResult, InferenceTask } from './messages.js';

export interface PoolOptions {
  /** Worker threads (default 2: this project's machines have 2 cores). */
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

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

/**
 * A piscina pool of onnxruntime sessions. Large requests are split across workers; images go
 * to workers and probabilities come back as transferred buffers. A task whose worker dies is
 * retried once on a fresh worker (piscina replaces it).
 */
export class OraclePool {
  private readonly piscina: Piscina;
  private readonly intraOpThreads: number;
  private readonly minChunk: number;
  private readonly maxChunk: number;
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
    this.piscina = new Piscina({
      filename: WORKER,
      minThreads: this.workers,
      maxThreads: this.workers,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'disabled',
    });
    this.piscina.on('workerDestroy', () => {
      if (!this.closing) this.lost++;
    });
  }

  /** Worker threads that died (killed, crashed, out of memory) and were replaced since the pool started. */
  get workersLost(): number {
    return this.lost;
  }

  /** onnxruntime runs finished so far (the slices requests were split into), for tests. */
  get runsCompleted(): number {
    return this.piscina.completed;
  }

  /** The worker threads, for tests that kill one on purpose. */
  get threads(): readonly { terminate(): Promise<number> }[] {
    return this.piscina.threads as unknown as { terminate(): Promise<number> }[];
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
      // A fresh copy per attempt: a transferred buffer is gone from this thread.
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
        result = (await this.piscina.run(task, { transferList: [slice.buffer] })) as InferenceResult;
      } catch (error) {
        // The worker died (exit, out of memory, terminated): piscina has replaced it.
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

  /**
   * Stops every worker once the requests already running have finished; requests not yet started
   * are refused. Never `destroy()`: a worker thread terminated while onnxruntime-node's native code
   * is on its stack aborts the whole program (`terminate called after throwing an instance of
   * 'Napi::Error'`, exit 134).
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.piscina.close({ force: true });
  }
}
