import { join } from 'node:path';
import { rate } from '../records/metrics.js';
import { columnIndex, forEachCsvRow } from './csv-read.js';
import type { PlotRecord } from './plots.js';
import type { TransferRecord } from './queries.js';

/** A cell as the report sees it: one row of results.csv, the fields the plots read. */
export type ReportRecord = PlotRecord & TransferRecord & { readonly index: number };

const COLUMNS = [
  'cell',
  'target',
  'strategy',
  'architecture',
  'budget',
  'reference',
  'attack',
  'attack_kind',
  'eps',
  'label_source',
  'evaluated',
  'target_error_num',
  'target_error_den',
  'transfer_rate_num',
  'transfer_rate_den',
  'substitute_queries',
  'substitute_fidelity',
] as const;

/**
 * Calls `onRecord` with each cell of DIR/results.csv, in the suite's order (merge writes it so),
 * one row at a time, with the row as text; returns the header. Rates come back from their numerators and denominators,
 * numbers from the
 * text that printed them, so the report plots what it would from the records themselves.
 */
export async function forEachResultsRow(
  dir: string,
  onRecord: (r: ReportRecord, row: readonly string[]) => void,
): Promise<readonly string[]> {
  const file = join(dir, 'results.csv');
  let at: Record<string, number> | undefined;
  const header = await forEachCsvRow(file, (row, names) => {
    at ??= columnIndex(file, names, COLUMNS);
    const text = (name: (typeof COLUMNS)[number]) => row[at?.[name] ?? -1] ?? '';
    const number = (name: (typeof COLUMNS)[number]) => Number(text(name));
    onRecord(
      {
        index: number('cell'),
        target: text('target'),
        strategy: text('strategy'),
        architecture: text('architecture'),
        budget: number('budget'),
        reference: text('reference') === 'true',
        attack: text('attack'),
        attackKind: text('attack_kind') as ReportRecord['attackKind'],
        eps: number('eps'),
        labelSource: text('label_source') as ReportRecord['labelSource'],
        evaluated: number('evaluated'),
        targetError: rate(number('target_error_num'), number('target_error_den')),
        transferRate: rate(number('transfer_rate_num'), number('transfer_rate_den')),
        substituteQueries: number('substitute_queries'),
        substituteFidelity: number('substitute_fidelity'),
      },
      row,
    );
  });
  // A results.csv with no rows is still checked for the columns.
  columnIndex(file, header, COLUMNS);
  return header;
}
