/**
 * The one place that writes to the terminal. Library code never prints; it returns data or
 * calls a reporter the CLI owns, so tests and other front ends can route output elsewhere.
 */
export interface Reporter {
  info(line: string): void;
  warn(line: string): void;
  verbose(line: string): void;
}

export function consoleReporter(options: { quiet?: boolean; verbose?: boolean } = {}): Reporter {
  return {
    info: (line) => {
      if (!options.quiet) process.stdout.write(`${line}\n`);
    },
    warn: (line) => process.stderr.write(`${line}\n`),
    verbose: (line) => {
      if (options.verbose) process.stderr.write(`${line}\n`);
    },
  };
}

/** Left-aligned columns for terminal tables. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}
