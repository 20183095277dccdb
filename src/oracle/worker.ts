import { parentPort, threadId } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { testDeath } from './fault-hook.js';
import { infer } from './infer.js';
import type { InferenceTask, ThreadLoadedMessage } from './messages.js';

// onnxruntime is loaded (infer.js imported it): from now on this thread may be terminated safely
// when idle. Before this message the pool never terminates it (see ThreadPool.close).
parentPort?.postMessage({ kind: 'loaded', threadId } satisfies ThreadLoadedMessage);

/** The entry of one piscina worker thread: one batch per task, probabilities transferred back. */
export default async function run(task: InferenceTask): Promise<object> {
  const result = await infer(task);
  // On the next turn, once piscina has posted the answer: the thread dies idle.
  setImmediate(() => testDeath('idle'));
  if (!result.ok) return result;
  // Transferred, not cloned: piscina moves the buffer named by transferableSymbol.
  return move({ [transferableSymbol]: result.probabilities.buffer, [valueSymbol]: result } as never);
}
