import { createReadStream, existsSync } from 'node:fs';
import { parse } from 'csv-parse';
import { TransferbenchError } from '../common/errors.js';
import type { Table } from './leaderboards.js';

/**
 * A cell as merge meant it: toCsv escapes text that a spreadsheet would read as a formula with a
 * leading quote (see CSV_OPTIONS in leaderboards.ts), which the page must not show.
 */
function unescapeCell(cell: string): string {
  return /^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
}

/**
 * Calls `onRow` with each data row of a merged CSV, read as a stream (memory does not grow with
 * the rows), and returns the header. The report reads its tables and plot data this way, so a
 * merge of any size can be followed by its report.
 */
export async function forEachCsvRow(
  file: string,
  onRow: (row: readonly string[], header: readonly string[]) => void,
): Promise<readonly string[]> {
  if (!existsSync(file))
    throw new TransferbenchError(
      'BAD_OPTION',
      `${file} is missing: the report reads the merged CSVs; run \`transferbench merge\` on the folder first`,
    );
  let header: string[] | undefined;
  for await (const record of createReadStream(file).pipe(parse())) {
    const row = (record as string[]).map(unescapeCell);
    if (header === undefined) header = row;
    else onRow(row, header);
  }
  if (header === undefined)
    throw new TransferbenchError('BAD_CONFIG', `${file} is empty: not a merged CSV (merge again)`);
  return header;
}

/** A merged CSV as a table of text cells, holding its first `maxRows` rows; `total` counts them all. */
export async function readCsvTable(file: string, maxRows: number): Promise<{ table: Table; total: number }> {
  const rows: (readonly string[])[] = [];
  let total = 0;
  const columns = await forEachCsvRow(file, (row) => {
    total++;
    if (rows.length < maxRows) rows.push(row);
  });
  return { table: { columns, rows }, total };
}

/** Column positions by name, refusing a CSV that lacks one the caller needs. */
export function columnIndex(file: string, header: readonly string[], names: readonly string[]): Record<string, number> {
  const missing = names.filter((n) => !header.includes(n));
  if (missing.length > 0)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${file} has no column ${missing.join(', ')}: written by an older transferbench? merge again`,
    );
  return Object.fromEntries(names.map((n) => [n, header.indexOf(n)]));
}
