import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransferbenchError } from '../common/errors.js';
import { processAlive } from '../common/files.js';

const CHUNK = 4 << 20;
const NEWLINE = 0x0a;

/** Where a line is in its file, in bytes (without its newline): enough to read it again alone. */
export interface LineAt {
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

/**
 * Calls `onRecord` with each complete JSON line of a file, reading it in chunks so no more than a
 * chunk and one line are in memory. A last line cut off by a kill (no newline) is skipped, as
 * readJsonLines does.
 */
export function forEachJsonLine(file: string, onRecord: (record: unknown, line: number, at: LineAt) => void): void {
  const fd = openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(CHUNK);
  let carry: Buffer = Buffer.alloc(0);
  let line = 0;
  /** File offset of the first byte of `data`. */
  let base = 0;
  try {
    for (;;) {
      const read = readSync(fd, chunk, 0, CHUNK, null);
      if (read === 0) break;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let start = 0;
      for (let end = data.indexOf(NEWLINE, start); end !== -1; end = data.indexOf(NEWLINE, start)) {
        line++;
        const lineStart = start;
        const text = data.toString('utf8', start, end);
        start = end + 1;
        if (text.trim() === '') continue;
        let record: unknown;
        try {
          record = JSON.parse(text);
        } catch {
          throw new TransferbenchError(
            'BAD_CONFIG',
            `${file}: line ${line} is not a JSON record; the file was edited or corrupted`,
          );
        }
        onRecord(record, line, { file, offset: base + lineStart, length: end - lineStart });
      }
      // The unfinished line is copied out: the chunk buffer is reused by the next read.
      carry = Buffer.from(data.subarray(start));
      base += start;
    }
  } finally {
    closeSync(fd);
  }
}

/** One line of a file, as forEachJsonLine found it, parsed. */
export function readJsonLineAt<T>(at: LineAt): T {
  const fd = openSync(at.file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(at.length);
    readSync(fd, buffer, 0, at.length, at.offset);
    return JSON.parse(buffer.toString('utf8')) as T;
  } finally {
    closeSync(fd);
  }
}

/** Removes the spill folders of merges that were killed (their process is gone); returns their paths. */
export function removeStaleSpills(): string[] {
  const stale = readdirSync(tmpdir())
    .map((name) => ({ name, pid: /^transferbench-merge-(\d+)-/.exec(name)?.[1] }))
    .filter((f) => f.pid !== undefined && Number(f.pid) !== process.pid && !processAlive(Number(f.pid)))
    .map((f) => join(tmpdir(), f.name));
  for (const path of stale) rmSync(path, { recursive: true, force: true });
  return stale;
}

/**
 * Records set aside on disk by cell index while the shard files are read in whatever order their
 * cells finished, then read back in the suite's order: memory holds an offset and a length per
 * cell, never the records.
 */
export class SpillByIndex {
  // Named by the process, so the next merge can remove what a killed one left (removeStaleSpills).
  private readonly dir = mkdtempSync(join(tmpdir(), `transferbench-merge-${process.pid}-`));
  private readonly fd = openSync(join(this.dir, 'records.jsonl'), 'w+');
  private readonly offsets: Float64Array;
  private readonly lengths: Uint32Array;
  private pending: string[] = [];
  private pendingBytes = 0;
  private written = 0;

  constructor(cells: number) {
    this.offsets = new Float64Array(cells);
    this.lengths = new Uint32Array(cells);
  }

  put(index: number, record: unknown): void {
    const text = JSON.stringify(record);
    const bytes = Buffer.byteLength(text);
    this.offsets[index] = this.written + this.pendingBytes;
    this.lengths[index] = bytes;
    this.pending.push(text);
    this.pendingBytes += bytes;
    if (this.pendingBytes >= CHUNK) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    writeSync(this.fd, this.pending.join(''), this.written);
    this.written += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The record put at `index` (call once every record is put). */
  get<T>(index: number): T {
    this.flush();
    const length = this.lengths[index] ?? 0;
    const buffer = Buffer.allocUnsafe(length);
    readSync(this.fd, buffer, 0, length, this.offsets[index] ?? 0);
    return JSON.parse(buffer.toString('utf8')) as T;
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
