import type { Table } from './leaderboards.js';

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A table as the page shows it: `total` rows in the CSV, of which `rows` are shown (the first ones). */
export type PageTable = Table & { readonly total?: number };

function table(name: string, data: PageTable): string {
  const cut =
    data.total !== undefined && data.total > data.rows.length
      ? `<p>The first ${data.rows.length.toLocaleString('en')} of ${data.total.toLocaleString('en')} ` +
        `rows; ${escapeHtml(name)} holds them all.</p>`
      : '';
  const head = data.columns
    .map((h, i) => `<th data-column="${i}" title="click to sort">${escapeHtml(h)}</th>`)
    .join('');
  // Rank groups (entries a paired test does not separate at 95%, Holm) shaded alike, alternating from group to group.
  const group = data.columns.indexOf('rank_group');
  const shade = (r: readonly (number | string | boolean)[]) =>
    group >= 0 && r[group] !== '' ? ` class="group-${Number(r[group]) % 2 === 1 ? 'odd' : 'even'}"` : '';
  const legend =
    group >= 0
      ? '<p>Rows shaded alike are one rank group: neighbouring ranks a paired test on the same images does not ' +
        "separate at 95% (McNemar's exact test, or a t test over replicates when there are several; Holm-adjusted; " +
        'comparisons.csv).</p>'
      : '';
  const body = data.rows
    .map((r) => `<tr${shade(r)}>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`)
    .join('\n');
  return (
    `<section><h2>${escapeHtml(name)}</h2>${legend}${cut}<div class="scroll"><table ` +
    `class="sortable" id="${escapeHtml(name.replace(/\W+/g, '-'))}"><thead><tr>${head}</tr></thead>` +
    `<tbody>\n${body}\n</tbody></table></div></section>`
  );
}

function grid(g: { src: string; title: string; rows: readonly string[] }): string {
  return (
    `<figure><figcaption>${escapeHtml(g.title)}</figcaption><img ` +
    `src="${escapeHtml(g.src)}" alt="${escapeHtml(g.title)}">` +
    `<ol>${g.rows.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ol></figure>`
  );
}

/** Sorting by header click, numbers as numbers; no library, so the page opens from disk. */
const SCRIPT =
  `
for (const table of document.querySelectorAll('table.sortable')) {
  for (const th of table.querySelectorAll('th')) {
    th.addEventListener('click', () => {
      const column = Number(th.dataset.column);
      const ascending = th.dataset.order !== 'asc';
      for (const other of table.querySelectorAll('th')) delete other.dataset.order;
      th.dataset.order = ascending ? 'asc' : 'desc';
      const body = table.tBodies[0];
      const rows = [...body.rows];
      const key = (row) => { const text = row.cells[column]?.textContent ?? ''; const n = Number(text); ` +
  `return text !== '' && !Number.isNaN(n) ? n : text; };
      rows.sort((a, b) => { const x = key(a), y = key(b); ` +
  `const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)); ` +
  `return ascending ? order : -order; });
      for (const row of rows) body.appendChild(row);
    });
  }
}`;

/** The static leaderboard page: sortable tables, the plots inline, the manifest. Opens from disk. */
export function reportPage(input: {
  title: string;
  /** By the name of the CSV file that holds the same table. */
  tables: Readonly<Record<string, PageTable>>;
  plots: { title: string; svg: string }[];
  grids?: { src: string; title: string; rows: readonly string[] }[];
  /** Grids the results make, when more than are shown. */
  gridsTotal?: number;
  manifest: string;
}): string {
  const grids = input.grids ?? [];
  const gridsCut =
    input.gridsTotal !== undefined && input.gridsTotal > grids.length
      ? ` The first ${grids.length.toLocaleString('en')} of ${input.gridsTotal.toLocaleString('en')} ` +
        `(attack, eps, label source) grids are drawn.`
      : '';
  const plots = input.plots
    .map((p) => `<figure><figcaption>${escapeHtml(p.title)}</figcaption>${p.svg}</figure>`)
    .join('\n');
  const gridsSection =
    grids.length > 0
      ? `<section><h2>Example grids</h2><p>Each image is labelled with ` +
        `a class index: the first row with the true class, the other ` +
        `rows with the target's answer on the adversarial image, green ` +
        `when still right, red when fooled.${gridsCut}</p>` +
        `<div class="grids">${grids.map(grid).join('\n')}</div></section>`
      : '';
  return (
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; background: #fff; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; font-size: 1.1em; }
table { border-collapse: collapse; font-size: 12px; } ` +
    `th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #eef; cursor: pointer; position: sticky; top: 0; } ` +
    `th[data-order=asc]::after { content: ' \\25B2'; } th[data-order=desc]::after { content: ' \\25BC'; }
.grids figure { margin: 0 0 1.5em 0; } .grids img { image-rendering: pixelated; display: block; } ` +
    `.grids ol { font-size: 12px; margin: 0.3em 0; }
.group-odd td { background: #f3f7ff; } .group-even td { background: #fff8ec; }
.scroll { max-height: 420px; overflow: auto; } .plots { display: flex; flex-wrap: wrap; gap: 1.5em; } ` +
    `pre { background: #f6f6f6; padding: 1em; overflow: auto; }
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<p>transferbench report: every rate with its numerator, denominator and Wilson 95% interval; click a column to sort.</p>
<div class="plots">${plots}</div>
${gridsSection}
${Object.entries(input.tables)
  .map(([name, data]) => table(name, data))
  .join('\n')}
<section><h2>manifest.json</h2><pre>${escapeHtml(input.manifest)}</pre></section>
<script>${SCRIPT}</script>
</body></html>
`
  );
}
