import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { ioError, TransferbenchError } from './errors.js';

/** Writes beside the target and renames, so a crash never leaves half a file. */
export function atomicWrite(path: string, data: Uint8Array | string, what = 'the file'): void {
  try {
    writeFileSync(`${path}.tmp`, data);
    renameSync(`${path}.tmp`, path);
  } catch (error) {
    // A full disk leaves the half-written temporary behind: remove it, then say what failed.
    rmSync(`${path}.tmp`, { force: true });
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
