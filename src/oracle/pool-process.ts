import { testDeath } from './fault-hook.js';
import { infer } from './infer.js';
import type { PoolProcessMessage, TaskMessage } from './messages.js';

/**
 * The entry of one oracle pool process. It serves tasks until its channel closes; the parent's
 * death closes it too, so a pool process never outlives the process it serves.
 */
const send = (message: PoolProcessMessage) => process.send?.(message);

process.on('disconnect', () => process.exit(0));
process.on('message', (message: TaskMessage) => {
  void infer(message.task).then((result) => {
    // Once the answer is on the channel: the process dies idle.
    process.send?.({ kind: 'result', id: message.id, result } satisfies PoolProcessMessage, () => testDeath('idle'));
  });
});
send({ kind: 'ready' });
