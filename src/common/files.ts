import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ioError, TransferbenchError } from './errors.js';

/** Whether a process of this host is running (EPERM: it is, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** The temporary a file is written to before it is renamed over `path`: it names the writing process. */
export function temporaryFor(path: string): string {
  return `${path}.${process.pid}.tmp`;
}

/**
 * Removes the temporaries (`<name>.<pid>.tmp`) in `dir` whose process is gone: a SIGKILL, or a
 * signal while a merge writes synchronously, leaves one no handler could remove. A live
 * process's temporary is kept. Returns the names removed, for a note.
 */
export function removeStaleTemporaries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const stale = readdirSync(dir).filter((name) => {
    const pid = /\.(\d+)\.tmp$/.exec(name)?.[1];
    return pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid));
  });
  for (const name of stale) rmSync(join(dir, name), { force: true, recursive: true });
  return stale;
}

/**
 * Creates a folder (and its parents) before any work needs it, so a path that cannot be a folder
 * fails at the start in one line naming the flag, not after a substitute has trained. A file in
 * the way is named as such (mkdir would say EEXIST or ENOTDIR about some path).
 */
export function ensureFolder(path: string, what: string): void {
  for (let at = path; ; at = dirname(at)) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(at, { throwIfNoEntry: false });
    } catch {
      stat = undefined; // ENOTDIR: a parent is a file, found further up
    }
    if (stat !== undefined && !stat.isDirectory())
      throw new TransferbenchError(
        'IO_ERROR',
        `${path}: cannot hold ${what}: ${at === path ? 'it' : at} is a file, not a folder`,
      );
    if (stat !== undefined || dirname(at) === at) break;
  }
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    // A recursive mkdir on a read-only disk reports ENOENT: one level at a time gives the real reason (EROFS, EACCES).
    const missing: string[] = [];
    for (let at = path; !existsSync(at) && dirname(at) !== at; at = dirname(at)) missing.unshift(at);
    for (const level of missing) {
      try {
        mkdirSync(level);
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(cause, path, what);
      }
    }
    throw ioError(error, path, what);
  }
}

/** Writes beside the target and renames, so a crash never leaves half a file. */
export function atomicWrite(path: string, data: Uint8Array | string, what = 'the file'): void {
  const partial = temporaryFor(path);
  try {
    writeFileSync(partial, data);
    renameSync(partial, path);
  } catch (error) {
    // A full disk leaves the half-written temporary behind: remove it, then say what failed.
    rmSync(partial, { force: true });
    throw ioError(error, path, what);
  }
}

/** Appends one record as a line and fsyncs, so a killed run loses at most the record in flight. */
export function appendJsonLine(file: string, record: unknown, what = 'a record'): void {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'a');
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } catch (error) {
    // A line cut short by a full disk is dropped by the next read (readJsonLines repairs it).
    throw ioError(error, file, what);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Reads a JSON-lines file. A last line cut off by a kill is dropped (and cut from the file when
 * `repair`, so the next append starts on a clean line).
 */
export function readJsonLines<T>(file: string, repair = false): T[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  if (repair && complete.length !== text.length) truncateSync(file, Buffer.byteLength(complete));
  return complete
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as T;
      } catch {
        throw new TransferbenchError(
          'BAD_CONFIG',
          `${file}: line ${i + 1} is not a JSON record; the file was edited or corrupted`,
        );
      }
    });
}
