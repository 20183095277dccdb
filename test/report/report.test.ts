import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { leaderboards, leaderboardTables, toCsv } from '../../src/report/leaderboards.js';
import { readCsvTable } from '../../src/report/csv-read.js';
import { PlotData, plotSpecs } from '../../src/report/plots.js';
import { forEachResultsRow } from '../../src/report/results-csv.js';
import { rate } from '../../src/records/metrics.js';
import { PNG } from 'pngjs';
import { toBytes, type CellExamples } from '../../src/records/examples.js';
import { appendResult, type CellResult } from '../../src/records/results.js';
import { drawDigits } from '../../src/report/digits.js';
import { reportPage } from '../../src/report/html.js';
import { PAGE_HIDDEN, PAGE_ROWS, writeReport } from '../../src/report/report.js';
import { tempDir } from '../fixtures/files.js';
import { skipBecause } from '../helpers/skip.js';

const CHROMIUM = '/usr/bin/chromium';

/** A small, varied set of results: two targets, two substitutes, two attacks, three eps. */
function results(): CellResult[] {
  const out: CellResult[] = [];
  let index = 0;
  for (const target of ['alpha', 'beta']) {
    for (const [strategy, budget] of [
      ['ground-truth', 0],
      ['static-distillation', 1000],
    ] as const) {
      for (const attack of ['fgsm', 'bim']) {
        for (const eps of [0.1, 0.2, 0.3]) {
          const fooled = Math.round(100 * eps * (attack === 'fgsm' ? 2 : 2.5) * (target === 'alpha' ? 1 : 0.8));
          out.push({
            cellId: `cell${index}`,
            index: index++,
            suiteHash: 'h',
            target,
            strategy,
            architecture: 'mlp',
            budget,
            reference: false,
            attack,
            attackKind: attack === 'fgsm' ? 'single-step' : 'multi-step',
            eps,
            labelSource: 'true',
            evaluated: 100,
            substituteCleanAccuracy: rate(95, 100),
            targetCleanAccuracy: rate(97, 100),
            whiteBoxSuccess: rate(Math.min(100, fooled + 10), 100),
            targetError: rate(fooled, 100),
            transferRate: rate(fooled, Math.min(100, fooled + 10)),
            substituteQueries: budget,
            substituteFidelity: strategy === 'ground-truth' ? 0.95 : 0.9,
            meanLinf: eps,
            maxLinf: eps,
            meanL2: eps * 10,
            maxL2: eps * 12,
            seconds: 1,
            examples: examples(eps),
          });
        }
      }
    }
  }
  return out;
}

/** Three 4x4 grey images: black, mid grey, white; the target keeps the first and is fooled on the others. */
function examples(eps: number): CellExamples {
  const clean = new Float32Array(48);
  clean.fill(0.5, 16, 32);
  clean.fill(1, 32, 48);
  return {
    imageShape: [4, 4, 1],
    indices: [0, 1, 2],
    trueLabels: [3, 7, 12],
    targetClean: [3, 7, 12],
    targetAdversarial: [3, 1, 0],
    clean: toBytes(clean),
    adversarial: toBytes(clean.map((v) => Math.min(1, v + eps))),
  };
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

describe('report', function () {
  this.timeout(120000);
  const dir = tempDir('transferbench-report-');

  before(async () => {
    const records = results();
    for (const r of records) appendResult(join(dir, 'results-1-of-1.jsonl'), r);
    // What merge writes: the report reads its tables and plot data from these CSVs.
    for (const [name, csv] of Object.entries(leaderboards(records))) writeFileSync(join(dir, name), csv);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ suite: 'report-test', backend: { name: 'wasm' } }));
    await writeReport(dir);
  });

  it('renders the three plots as SVG with Vega and a self-contained index.html', () => {
    for (const plot of ['transfer-vs-eps.svg', 'transfer-heatmap.svg', 'fidelity-vs-queries.svg']) {
      const svg = readFileSync(join(dir, 'plots', plot), 'utf8');
      assert.match(svg, /^<svg /);
      assert.ok(svg.length > 2000, `${plot} is nearly empty`);
    }
    const legend =
      readFileSync(join(dir, 'plots', 'transfer-vs-eps.svg'), 'utf8').match(
        /role-legend-symbol[^>]*><path [^>]*stroke-dasharray[^>]*>/g,
      ) ?? [];
    assert.ok(
      legend.length === 2 && legend.every((p) => p.includes('stroke="#444"')),
      'the single-/multi-step legend is drawn as visible dashed strokes',
    );
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /<script src=|<link /, 'no external resources: the page opens from disk');
    assert.match(html, /transfer-vs-eps|Transfer rate vs eps/);
  });

  it("draws one example grid per attack, eps and label source, labelled with the target's answers", () => {
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    for (const attack of ['fgsm', 'bim']) {
      for (const eps of [0.1, 0.2, 0.3]) {
        const file = `${attack}-eps${eps}-true.png`;
        assert.ok(html.includes(`src="grids/${file}"`), file);
        const png = PNG.sync.read(readFileSync(join(dir, 'grids', file)));
        // a 20-pixel margin for row numbers, 3 columns of 4x4 images at scale 2 with 4-pixel gaps; a clean row and 4
        // cell rows
        assert.equal(png.width, 20 + 3 * (8 + 4) + 4);
        assert.equal(png.height, 5 * (8 + 14 + 4) + 4);
        const colours = new Set<string>();
        for (let i = 0; i < png.data.length; i += 4)
          colours.add(`${png.data[i]},${png.data[i + 1]},${png.data[i + 2]}`);
        assert.ok(
          colours.has('0,130,0') && colours.has('210,0,0') && colours.has('40,40,40') && colours.has('120,120,170'),
          'true labels, kept and fooled answers and row numbers are all drawn',
        );
        // the clean row's middle image is mid grey (128), the adversarial row below is lighter by eps
        const pixel = (x: number, y: number) => png.data[(y * png.width + x) * 4] as number;
        assert.equal(pixel(20 + 4 + 12 + 2, 4 + 2), 128);
        assert.equal(pixel(20 + 4 + 12 + 2, 4 + 26 + 2), Buffer.from(toBytes(Float32Array.of(0.5 + eps)), 'base64')[0]);
      }
    }
  });

  it('draws digits only, and multi-digit labels glyph by glyph', () => {
    const lit = new Set<string>();
    const width = drawDigits('12', 1, (x, y) => lit.add(`${x},${y}`));
    assert.equal(width, 7);
    assert.ok(lit.has('1,0') && !lit.has('0,0'), 'the 1 has its stem in the middle column');
    assert.throws(() => drawDigits('a', 1, () => {}), /digits only/);
  });

  it('shows the merged CSVs as tables, cell for cell', () => {
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    const tables = leaderboardTables(results());
    for (const name of Object.keys(tables)) {
      // The page's table, read back cell by cell, against the CSV merge wrote (parsed by csv-parse).
      const id = name.replace(/\W+/g, '-');
      const section = html.match(
        new RegExp(`id="${id}"><thead><tr>(.*?)</tr></thead><tbody>\\n([\\s\\S]*?)\\n</tbody>`),
      );
      assert.ok(section, `table ${name} on the page`);
      const cells = (row: string) =>
        [...row.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((c) => unescapeHtml(c[1] ?? ''));
      const shown = [
        cells(section[1] ?? ''),
        ...[...(section[2] ?? '').matchAll(/<tr[^>]*>(.*?)<\/tr>/g)].map((r) => cells(r[1] ?? '')),
      ];
      const csv = parse(readFileSync(join(dir, name), 'utf8'), { relax_column_count: false }) as string[][];
      // Less the per-image flags, which the page leaves out.
      const hidden = (csv[0] ?? []).map((c) => PAGE_HIDDEN.includes(c));
      assert.deepEqual(
        shown,
        csv.map((row) => row.filter((_, i) => !hidden[i])),
        name,
      );
    }
    assert.match(html, /<td>fgsm<\/td><td>single-step<\/td><td>true<\/td>/);
    assert.doesNotMatch(html, /rows; .* holds them all/, 'every row shown');
  });

  it('plots from results.csv exactly what it would plot from the records', async () => {
    const fromCsv = new PlotData();
    await forEachResultsRow(dir, (r) => fromCsv.add(r));
    assert.deepEqual(fromCsv.specs(), plotSpecs(results()));
    // A stale results.csv without a column the plots need is refused, naming it.
    const stale = tempDir('transferbench-stale-');
    writeFileSync(
      join(stale, 'results.csv'),
      readFileSync(join(dir, 'results.csv'), 'utf8').replace('substitute_fidelity', 'fidelity'),
    );
    await assert.rejects(
      forEachResultsRow(stale, () => {}),
      /results\.csv has no column substitute_fidelity: written by an older transferbench\? merge again/,
    );
  });

  it('shows at most PAGE_ROWS rows of a table, saying where the rest are, and text as merge meant it', async () => {
    const file = join(tempDir('transferbench-page-'), 'results.csv');
    // toCsv escapes text a spreadsheet would take for a formula; the page shows it unescaped.
    writeFileSync(
      file,
      toCsv({ columns: ['cell', 'x'], rows: Array.from({ length: 5 }, (_, i) => [i, `=cmd${i}, "q"`]) }),
    );
    const { table, total } = await readCsvTable(file, 2);
    assert.deepEqual(
      [table.rows, total],
      [
        [
          ['0', '=cmd0, "q"'],
          ['1', '=cmd1, "q"'],
        ],
        5,
      ],
    );
    const html = reportPage({ title: 't', tables: { 'results.csv': { ...table, total } }, plots: [], manifest: '{}' });
    assert.match(html, /<p>The first 2 of 5 rows; results\.csv holds them all\.<\/p>/);
    assert.equal((html.match(/<tr><td>/g) ?? []).length, 2);
    assert.equal(PAGE_ROWS, 2000);
  });

  it('shows the tables it is given, text escaped and numbers as written', () => {
    const html = reportPage({
      title: 't',
      tables: { 'x.csv': { columns: ['name', 'n', 'flag'], rows: [['<b>', 0.125, true]] } },
      plots: [],
      manifest: '{}',
    });
    assert.match(html, /<th data-column="0" title="click to sort">name<\/th>/);
    assert.match(html, /<tr><td>&lt;b&gt;<\/td><td>0.125<\/td><td>true<\/td><\/tr>/);
  });

  it('refuses a folder that was never merged, naming the command that fixes it', async () => {
    const unmerged = tempDir('transferbench-unmerged-');
    await assert.rejects(
      writeReport(unmerged),
      (e: Error & { code?: string }) =>
        e.code === 'BAD_OPTION' &&
        e.message === `${unmerged}: not merged (no manifest.json); run \`transferbench merge ${unmerged}\` first`,
    );
  });

  it('opens from disk in headless Chromium, sorts a column on click, and is not blank', async function () {
    if (!existsSync(CHROMIUM)) skipBecause(this, `no Chromium at ${CHROMIUM} (Debian's chromium; .ci/run installs it)`);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`file://${join(dir, 'index.html')}`);
      const table = page.locator('#leaderboard-attacks-csv');
      const column = await table
        .locator('th')
        .evaluateAll((ths) => ths.findIndex((th) => th.textContent === 'pooled_transfer_rate'));
      assert.ok(column >= 0);
      const values = async () =>
        (await table.locator(`tbody tr td:nth-child(${column + 1})`).allTextContents()).map(Number);
      const before = await values();
      await table.locator('th').nth(column).click();
      const ascending = await values();
      assert.deepEqual(
        ascending,
        [...before].sort((a, b) => a - b),
      );
      await table.locator('th').nth(column).click();
      assert.deepEqual(
        await values(),
        [...before].sort((a, b) => b - a),
      );
      const loaded = await page
        .locator('.grids img')
        .evaluateAll((imgs) => imgs.map((img) => (img as HTMLImageElement).naturalWidth));
      assert.ok(loaded.length === 6 && loaded.every((w) => w > 0), `example grids load from disk: ${loaded.join(',')}`);
      const shot = await page.screenshot({ fullPage: true });
      await page.setContent('<html><body></body></html>');
      const blank = await page.screenshot({ fullPage: true });
      assert.ok(shot.length > 10 * blank.length, `screenshot ${shot.length} bytes vs blank ${blank.length}`);
    } finally {
      await browser.close();
    }
  });
});
