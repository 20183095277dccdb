import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { TransferbenchError } from '../common/errors.js';
import { processAlive as alive } from '../common/files.js';

/**
 * An exclusive lock on one shard's results file, so two runs of the same shard (a double start,
 * an overlapping retry) cannot interleave their cells. A lock left by a dead process is taken
 * over. The lock names its host: on a cluster a requeued task may start on another node, where
 * the old process id means nothing, and the scheduler has already ended the old task, so a lock
 * from another host is taken over too. Returns the release function.
 */
export function lockShard(lockFile: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, `${hostname()} ${process.pid}`);
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      const [host, pid] = readFileSync(lockFile, 'utf8').trim().split(' ');
      const owner = Number(pid);
      if (host === hostname() && Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new TransferbenchError(
          'BAD_OPTION',
          `another run (pid ${owner}) is writing this shard's results (${lockFile}); ` +
            `wait for it, or stop it and pass --resume`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new TransferbenchError('BAD_OPTION', `cannot lock ${lockFile}`);
}
