import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { scalarOutput, stepFeeds, type StepInputNames, type StepRows } from './feeds.js';

/** What a replica needs: the training step model and where the shared weights and its gradients live. */
export interface ReplicaData {
  readonly bytes: Uint8Array;
  /** The weights' input names and shapes, and the shared buffers the main thread updates. */
  readonly weights: readonly {
    readonly name: string;
    readonly shape: readonly number[];
    readonly buffer: SharedArrayBuffer;
  }[];
  /** This replica's gradient slots, one per weight, in the order of `weights`. */
  readonly gradients: readonly SharedArrayBuffer[];
  readonly gradientNames: readonly string[];
  readonly lossName: string;
  readonly io: StepInputNames;
  readonly imageShape: readonly number[];
  readonly classes: number;
  readonly masks: readonly { readonly name: string; readonly shape: readonly number[] }[];
}

/** One replica's share of a step: its rows of the batch. */
export type ReplicaStep = StepRows;

export type FromReplica = { type: 'ready' } | { type: 'done'; loss: number } | { type: 'error'; message: string };

/**
 * A data-parallel replica of the training step: one onnxruntime session on one thread. Each
 * step it copies the current weights out of shared memory (onnxruntime-node refuses tensors over
 * a SharedArrayBuffer), runs its rows, and leaves d(loss)/d(weight) in its shared gradient slots
 * for the main thread to sum.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const data = workerData as ReplicaData;
  const send = (message: FromReplica) => port.postMessage(message);
  try {
    const session = await ort.InferenceSession.create(data.bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    const shared = data.weights.map((w) => new Float32Array(w.buffer));
    const local = shared.map((w) => new Float32Array(w.length));
    const gradients = data.gradients.map((g) => new Float32Array(g));
    port.on('message', (step: ReplicaStep | 'stop') => {
      if (step === 'stop') {
        void session.release().then(() => port.close());
        return;
      }
      // Every failure is answered, never thrown: an uncaught error would end the thread mid-session.
      const fail = (error: unknown) =>
        send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      try {
        local.forEach((w, k) => w.set(shared[k] as Float32Array));
        const feeds = stepFeeds(data.io, step, data, local);
        session
          .run(feeds)
          .then((out) => {
            data.gradientNames.forEach((name, k) =>
              (gradients[k] as Float32Array).set(out[name]?.data as Float32Array),
            );
            send({ type: 'done', loss: scalarOutput(out, data.lossName) });
          })
          .catch(fail);
      } catch (error) {
        fail(error);
      }
    });
    send({ type: 'ready' });
  } catch (error) {
    send({ type: 'error', message: (error as Error).message });
  }
}

void main();
