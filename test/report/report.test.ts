import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { leaderboards } from '../../src/bench/leaderboards.js';
import { rate } from '../../src/bench/metrics.js';
import { appendResult, type CellResult } from '../../src/bench/results.js';
import { parseCsv } from '../../src/report/html.js';
import { writeReport } from '../../src/report/report.js';
import { tempDir } from '../fixtures/files.js';

const CHROMIUM = '/usr/bin/chromium';

/** A small, varied set of results: two targets, two substitutes, two attacks, three eps. */
function results(): CellResult[] {
  const out: CellResult[] = [];
  let index = 0;
  for (const target of ['alpha', 'beta']) {
    for (const [strategy, budget] of [['ground-truth', 0], ['static-distillation', 1000]] as const) {
      for (const attack of ['fgsm', 'bim']) {
        for (const eps of [0.1, 0.2, 0.3]) {
          const fooled = Math.round(100 * eps * (attack === 'fgsm' ? 2 : 2.5) * (target === 'alpha' ? 1 : 0.8));
          out.push({
            cellId: `cell${index}`, index: index++, suiteHash: 'h', target, strategy, architecture: 'mlp', budget, reference: false,
            attack, attackKind: attack === 'fgsm' ? 'single-step' : 'multi-step', eps, labelSource: 'true', evaluated: 100,
            substituteCleanAccuracy: rate(95, 100), targetCleanAccuracy: rate(97, 100), whiteBoxSuccess: rate(Math.min(100, fooled + 10), 100),
            targetError: rate(fooled, 100), transferRate: rate(fooled, Math.min(100, fooled + 10)), substituteQueries: budget,
            substituteFidelity: strategy === 'ground-truth' ? 0.95 : 0.9, meanLinf: eps, maxLinf: eps, meanL2: eps * 10, maxL2: eps * 12, seconds: 1,
          });
        }
      }
    }
  }
  return out;
}

describe('report', function () {
  this.timeout(120000);
  const dir = tempDir('transferbench-report-');

  before(async () => {
    const records = results();
    for (const r of records) appendResult(join(dir, 'results-1-of-1.jsonl'), r);
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
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /<script src=|<link /, 'no external resources: the page opens from disk');
    assert.match(html, /transfer-vs-eps|Transfer rate vs eps/);
  });

  it('reads back the CSVs it shows', () => {
    const rows = parseCsv('a,"b,c","d ""e"""\n1,2,3\n');
    assert.deepEqual(rows, [['a', 'b,c', 'd "e"'], ['1', '2', '3']]);
  });

  it('opens from disk in headless Chromium, sorts a column on click, and is not blank', async function () {
    if (!existsSync(CHROMIUM)) this.skip();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`file://${join(dir, 'index.html')}`);
      const table = page.locator('#leaderboard-attacks-csv');
      const column = await table.locator('th').evaluateAll((ths) => ths.findIndex((th) => th.textContent === 'pooled_transfer_rate'));
      assert.ok(column >= 0);
      const values = async () => (await table.locator(`tbody tr td:nth-child(${column + 1})`).allTextContents()).map(Number);
      const before = await values();
      await table.locator('th').nth(column).click();
      const ascending = await values();
      assert.deepEqual(ascending, [...before].sort((a, b) => a - b));
      await table.locator('th').nth(column).click();
      assert.deepEqual(await values(), [...before].sort((a, b) => b - a));
      const shot = await page.screenshot({ fullPage: true });
      await page.setContent('<html><body></body></html>');
      const blank = await page.screenshot({ fullPage: true });
      assert.ok(shot.length > 10 * blank.length, `screenshot ${shot.length} bytes vs blank ${blank.length}`);
    } finally {
      await browser.close();
    }
  });
});
