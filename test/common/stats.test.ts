import assert from 'node:assert/strict';
import { Random } from '../../src/common/random.js';
import {
  clusteredDifference,
  clusteredRate,
  holm,
  mcnemarExact,
  newcombePaired,
  tQuantile975,
  tTestP,
  wilson,
} from '../../src/common/stats.js';

/** Successes among n Bernoulli(p) draws. */
function binomial(random: Random, n: number, p: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) if (random.next() < p) x++;
  return x;
}

/** Monte-Carlo error of a coverage estimate at 95% over `trials`, times 3 (a 0.3% chance of a false alarm). */
const tolerance = (trials: number) => 3 * Math.sqrt((0.95 * 0.05) / trials);

describe('two-level intervals (clusteredRate)', () => {
  // Known variance components: each replicate's true rate is mean + N(0, between^2) (retraining),
  // then its images are a binomial sample of that rate (the image sample).
  const settings = [
    { mean: 0.3, between: 0.06, images: 200, replicates: 5, sizes: 'equal' },
    { mean: 0.7, between: 0.1, images: 100, replicates: 5, sizes: 'equal' },
    { mean: 0.12, between: 0.03, images: 500, replicates: 10, sizes: 'equal' },
    { mean: 0.4, between: 0, images: 200, replicates: 5, sizes: 'equal' },
    // A transfer rate: its denominator (images that fool the substitute) differs between replicates.
    { mean: 0.5, between: 0.08, images: 150, replicates: 5, sizes: 'unequal' },
  ] as const;
  const trials = 2000;

  for (const s of settings) {
    it(
      `covers the mean rate at 95% (mean ${s.mean}, between-replicate sd ${s.between}, ` +
        `${s.images} images, ${s.replicates} replicates, ${s.sizes} sizes)`,
      () => {
        const random = new Random(20261203).fork(JSON.stringify(s));
        let twoLevel = 0;
        let oneLevel = 0;
        let share = 0;
        for (let t = 0; t < trials; t++) {
          const cells = Array.from({ length: s.replicates }, () => {
            const p = Math.min(1, Math.max(0, s.mean + s.between * random.normal()));
            const n = s.sizes === 'equal' ? s.images : Math.round(s.images * (0.5 + random.next()));
            return { numerator: binomial(random, n, p), denominator: n };
          });
          const r = clusteredRate(cells);
          assert.ok(r !== undefined);
          if (r.low <= s.mean && s.mean <= r.high) twoLevel++;
          const x = cells.reduce((a, c) => a + c.numerator, 0);
          const n = cells.reduce((a, c) => a + c.denominator, 0);
          const w = wilson(x, n);
          if (w.low <= s.mean && s.mean <= w.high) oneLevel++;
          share += r.retrainingShare;
        }
        const coverage = twoLevel / trials;
        const expectedShare = s.between ** 2 / (s.between ** 2 + (s.mean * (1 - s.mean)) / s.images);
        console.log(
          `      two-level coverage ${coverage.toFixed(4)}, one-level Wilson ${(oneLevel / trials).toFixed(4)}, ` +
            `mean retraining share ${(share / trials).toFixed(3)} (components: ${expectedShare.toFixed(3)})`,
        );
        assert.ok(Math.abs(coverage - 0.95) <= tolerance(trials), `coverage ${coverage}`);
        if (s.between >= 0.06)
          assert.ok(oneLevel / trials < 0.85, 'the one-level interval misses the retraining variance');
        // A ratio of variances estimated on R-1 degrees of freedom, truncated at 0: biased towards the middle,
        // and rough with 5 replicates, but it tells a retraining-dominated spread from an image-dominated one.
        assert.ok(Math.abs(share / trials - expectedShare) < 0.2, 'retraining share near its components');
      },
    );
  }

  it('needs two replicates, and gives Wilson with t at rates of 0 or 1', () => {
    assert.equal(clusteredRate([{ numerator: 3, denominator: 10 }]), undefined);
    const zero = clusteredRate([
      { numerator: 0, denominator: 50 },
      { numerator: 0, denominator: 50 },
    ]);
    assert.deepEqual(zero && [zero.value, zero.low, zero.retrainingShare], [0, 0, 0]);
    assert.ok(zero && zero.high > wilson(0, 100).high, 't on 1 degree of freedom is wider than z');
  });

  it('reads Student t quantiles', () => {
    assert.equal(tQuantile975(4), 2.7764);
    // scipy.stats.t.ppf(0.975, df)
    assert.ok(Math.abs(tQuantile975(11) - 2.200985) < 2e-4);
    assert.ok(Math.abs(tQuantile975(30) - 2.042272) < 1e-4);
    assert.ok(Math.abs(tQuantile975(1000) - 1.962339) < 1e-4);
  });
});

describe('paired comparisons', () => {
  it("gives Newcombe's method 10 interval as biostatUZH's confIntPairedProportion computes it", () => {
    // 36 pairs: both 12, first only 9, second only 2, neither 13 (the R package's formula, run in Python):
    // difference 0.194444, 95% interval 0.014925 to 0.353212.
    const r = newcombePaired({ both: 12, onlyFirst: 9, onlySecond: 2, neither: 13 });
    assert.ok(Math.abs(r.difference - 0.194444) < 1e-6, String(r.difference));
    assert.ok(Math.abs(r.low - 0.014925) < 1e-6 && Math.abs(r.high - 0.353212) < 1e-6, `${r.low} ${r.high}`);
    // No discordant pairs: no difference, an interval around 0.
    const same = newcombePaired({ both: 20, onlyFirst: 0, onlySecond: 0, neither: 20 });
    assert.ok(same.difference === 0 && same.low < 0 && same.high > 0);
  });

  it('covers a paired difference that retraining moves at 95%, at the replicate level', () => {
    // Each replicate: 300 image pairs; a fools with probability 0.4 + d_r / 2, b with 0.4 - d_r / 2, independently,
    // d_r ~ N(0.05, 0.04^2) (retraining moves the gap).
    const random = new Random(11);
    const trials = 2000;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const replicates = Array.from({ length: 5 }, () => {
        const gap = 0.05 + 0.04 * random.normal();
        let onlyFirst = 0;
        let onlySecond = 0;
        for (let i = 0; i < 300; i++) {
          const a = random.next() < 0.4 + gap / 2;
          const b = random.next() < 0.4 - gap / 2;
          if (a && !b) onlyFirst++;
          if (b && !a) onlySecond++;
        }
        return { onlyFirst, onlySecond, pairs: 300 };
      });
      const r = clusteredDifference(replicates);
      assert.ok(r);
      if (r.low <= 0.05 && 0.05 <= r.high) covered++;
    }
    console.log(`      two-level paired difference coverage ${(covered / trials).toFixed(4)}`);
    assert.ok(Math.abs(covered / trials - 0.95) <= tolerance(trials), String(covered / trials));
    // scipy.stats.t.sf(3, 10) * 2
    assert.ok(Math.abs(tTestP(3, 10) - 0.01334366) < 1e-7);
  });

  it("gives McNemar's exact p-value, and Holm's adjustment", () => {
    // scipy.stats.binomtest(2, 11, 0.5).pvalue
    assert.ok(Math.abs(mcnemarExact(9, 2) - 0.06542969) < 1e-8);
    assert.equal(mcnemarExact(0, 0), 1);
    assert.equal(mcnemarExact(5, 5), 1);
    assert.ok(mcnemarExact(60000, 59000) < 0.01 && mcnemarExact(60000, 59000) > 0);
    assert.deepEqual(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06]);
  });

  it('finds a known difference between two constructed attacks on the same images', () => {
    // Attack A fools images 0-399 of 1,000; attack B fools images 100-449: A is better by 0.05,
    // with 100 pairs only A fools and 50 only B does.
    const random = new Random(7);
    const order = random.shuffle(Array.from({ length: 1000 }, (_, i) => i));
    const a = order.map((i) => i < 400);
    const b = order.map((i) => i >= 100 && i < 450);
    const counts = { both: 0, onlyFirst: 0, onlySecond: 0, neither: 0 };
    a.forEach((fa, i) => {
      const fb = b[i] as boolean;
      if (fa && fb) counts.both++;
      else if (fa) counts.onlyFirst++;
      else if (fb) counts.onlySecond++;
      else counts.neither++;
    });
    const r = newcombePaired(counts);
    assert.ok(Math.abs(r.difference - 0.05) < 1e-12);
    assert.ok(r.low > 0 && r.low < 0.05 && r.high > 0.05, `${r.low} ${r.high}`);
    assert.ok(mcnemarExact(counts.onlyFirst, counts.onlySecond) < 1e-4);
    // Unpaired, the two Wilson intervals (0.37-0.43 and 0.32-0.38) overlap: only the pairing separates them.
    assert.ok(wilson(400, 1000).low < wilson(350, 1000).high);
  });
});
