import { badDataFile } from '../../common/errors.js';
import { readDataFile } from './raw-array.js';

/**
 * One row of a `labels.csv` in the layout TransferAttack reads (its `AdvDataset.load_labels`,
 * after the NIPS 2017 adversarial competition's development set): a header row naming at least
 * `filename` and `label` (0-based class indices), and optionally `targeted_label` (the class a
 * targeted attack aims for). Columns are found by name, in any order; others are ignored, as
 * pandas.read_csv would.
 */
export interface LabelRow {
  readonly filename: string;
  readonly label: number;
  readonly targetedLabel?: number;
}

/** Splits CSV text into rows of fields (RFC 4180: quoted fields, doubled quotes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.length === 0) quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  row.push(field);
  if (row.length > 1 || row[0] !== '') rows.push(row);
  return rows;
}

const LAYOUT =
  'expected a header row "filename,label" (optionally ",targeted_label") ' +
  "and one row per image, as in TransferAttack's data/labels.csv";

function classIndex(file: string, line: number, column: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(value) || value < 0) {
    throw badDataFile(
      file,
      `line ${line}: ${column} is ${JSON.stringify(text ?? '')}`,
      'expected a class index, an integer >= 0',
    );
  }
  return value;
}

/** Reads and checks a labels.csv: every row has a file name (once) and an integer label. */
export function readLabelsCsv(file: string): LabelRow[] {
  const [header, ...body] = parseCsv(readDataFile(file).toString('utf8'));
  const columns = (header ?? []).map((name) => name.trim());
  const nameAt = columns.indexOf('filename');
  const labelAt = columns.indexOf('label');
  const targetAt = columns.indexOf('targeted_label');
  if (nameAt < 0 || labelAt < 0) throw badDataFile(file, `header is ${JSON.stringify(columns.join(','))}`, LAYOUT);
  if (body.length === 0) throw badDataFile(file, 'no rows after the header', LAYOUT);
  const seen = new Map<string, number>();
  return body.map((fields, k) => {
    const line = k + 2;
    const filename = (fields[nameAt] ?? '').trim();
    if (filename === '') throw badDataFile(file, `line ${line}: empty filename`, LAYOUT);
    const earlier = seen.get(filename);
    if (earlier !== undefined)
      throw badDataFile(
        file,
        `line ${line}: ${filename} is listed again (first on line ${earlier})`,
        'list each image once',
      );
    seen.set(filename, line);
    const label = classIndex(file, line, 'label', fields[labelAt]);
    return targetAt < 0
      ? { filename, label }
      : { filename, label, targetedLabel: classIndex(file, line, 'targeted_label', fields[targetAt]) };
  });
}
