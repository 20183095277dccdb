import type { PoolProcessMessage, TaskMessage } from './messages.js';
import { infer } from './worker.js';

/**
 * The entry of one oracle pool process. It serves tasks until its channel closes; the parent's
 * death closes it too, so a pool process never outlives the process it serves.
 */
function send(message: PoolProcessMessage): void {
  // A parent gone mid-send (EPIPE) is the end of this process's work, not an error to print.
  if (process.connected) process.send?.(message, undefined, {}, (error) => error && process.exit(0));
}

process.on('disconnect', () => process.exit(0));
process.on('message', (message: TaskMessage) => {
  void infer(message.task).then((result) => send({ kind: 'result', id: message.id, result }));
});
send({ kind: 'ready' });
