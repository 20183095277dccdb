/**
 * Every error transferbench raises on purpose is a TransferbenchError with a stable code,
 * so the CLI can print the message alone (the stack only with --verbose) and tests can
 * match on the code rather than on wording.
 */
export type ErrorCode =
  | 'BAD_DATA_FILE'
  | 'BAD_DATASET'
  | 'BAD_OPTION'
  | 'BAD_CONFIG'
  | 'BAD_MODEL'
  | 'BACKEND_UNAVAILABLE'
  | 'UNKNOWN_NAME'
  | 'DUPLICATE_NAME'
  /** Images sent to an oracle whose length is not a whole number of the target's images. */
  | 'BAD_IMAGES'
  /** A worker process running a group of cells (or an oracle pool process, twice on one request) died. */
  | 'WORKER_CRASHED'
  /** A file could not be written or read (a full or read-only disk): the message names the path and what it held. */
  | 'IO_ERROR';

export class TransferbenchError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TransferbenchError';
  }
}

export function badDataFile(file: string, problem: string, fix: string): TransferbenchError {
  return new TransferbenchError('BAD_DATA_FILE', `${file}: ${problem}; ${fix}`);
}

export function badDataset(name: string, problem: string): TransferbenchError {
  return new TransferbenchError('BAD_DATASET', `dataset ${name}: ${problem}`);
}

export function badOption(option: string, found: unknown, allowed: string): TransferbenchError {
  return new TransferbenchError('BAD_OPTION', `${option}: got ${JSON.stringify(found)}, expected ${allowed}`);
}

export function unknownName(kind: string, name: string, known: readonly string[]): TransferbenchError {
  return new TransferbenchError('UNKNOWN_NAME', `unknown ${kind} "${name}"; known ${kind}s: ${known.join(', ')}`);
}

/** A buffer handed to an oracle that does not hold whole images of the target's shape. */
export function badImages(target: string, length: number, imageShape: readonly number[]): TransferbenchError {
  const size = imageShape.reduce((a, b) => a * b, 1);
  return new TransferbenchError(
    'BAD_IMAGES',
    `target ${target}: got ${length} values, not a whole number of ` +
      `${imageShape.join('x')} images (${size} values each); pass NHWC ` +
      `images of the target's shape`,
  );
}

export function duplicateName(kind: string, name: string): TransferbenchError {
  return new TransferbenchError('DUPLICATE_NAME', `${kind} "${name}" is already registered`);
}

/**
 * A file-system error as one line: the path, what was being written or read, and the system's
 * reason without its errno prefix ("no space left on device"). Anything else is passed through.
 */
export function ioError(error: unknown, path: string, what: string): unknown {
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string' || typeof e.syscall !== 'string') return error;
  const reason = e.message
    .replace(/^[A-Z]+: /, '')
    .replace(/, [a-z]+ '[^']*'$/, '')
    .replace(/, [a-z]+$/, '');
  return new TransferbenchError(
    'IO_ERROR',
    `${path}: could not ` +
      `${e.syscall === 'open' ? 'open' : e.syscall === 'mkdir' ? 'create the folder of' : 'write'} ${what}: ` +
      `${reason} (${e.code})`,
  );
}
