import assert from 'node:assert/strict';
import { measureRubbish, rubbishImages } from '../../src/runner/rubbish.js';
import type { Oracle, OracleAnswer } from '../../src/oracle/oracle.js';

/** An oracle whose answer depends on each image's mean brightness: class 2 with p, or class 0 with 0.4. */
function fakeOracle(mode: 'probabilities' | 'label' = 'probabilities'): Oracle {
  return {
    targetName: 'fake',
    mode,
    classes: 3,
    imageShape: [2, 2, 1],
    usage: () => ({
      byPurpose: { 'substitute-training': 0, evaluation: 0, attack: 0 },
      budget: Infinity,
      remaining: Infinity,
      physicalInferences: 0,
    }),
    async query(images: Float32Array): Promise<OracleAnswer> {
      const count = images.length / 4;
      const labels = new Int32Array(count);
      const probabilities = new Float32Array(count * 3);
      for (let i = 0; i < count; i++) {
        const mean = (images[4 * i]! + images[4 * i + 1]! + images[4 * i + 2]! + images[4 * i + 3]!) / 4;
        if (mean > 0.5) {
          labels[i] = 2;
          probabilities.set([0.05, 0.05, 0.9], 3 * i);
        } else {
          probabilities.set([0.4, 0.3, 0.3], 3 * i);
        }
      }
      return mode === 'probabilities'
        ? { mode, count, classes: 3, labels, probabilities }
        : { mode, count, classes: 3, labels };
    },
  };
}

describe('rubbish-class inputs', () => {
  it('draws the same clipped Gaussian noise for a seed, and other noise for another seed', () => {
    const a = rubbishImages({ samples: 500, mean: 0.5, std: 0.25 }, [2, 2, 1], 7);
    assert.deepEqual(a, rubbishImages({ samples: 500, mean: 0.5, std: 0.25 }, [2, 2, 1], 7));
    assert.notDeepEqual(a, rubbishImages({ samples: 500, mean: 0.5, std: 0.25 }, [2, 2, 1], 8));
    assert.ok(a.every((v) => v >= 0 && v <= 1));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
    const clipped = rubbishImages({ samples: 500, mean: 0, std: 1 }, [2, 2, 1], 7);
    assert.ok(clipped.filter((v) => v === 0).length > 0.4 * clipped.length, 'half of N(0, 1) is clipped to 0');
  });

  it('counts the noise a target classifies with confidence above the threshold', async () => {
    const r = await measureRubbish(
      fakeOracle(),
      { name: 'fake', classNames: ['zero', 'one', 'two'] },
      { samples: 400 },
      3,
      'h',
    );
    // half of the images' means lie above 0.5: those get class 2 at 0.9, the rest class 0 at 0.4
    assert.equal(r.samples, 400);
    assert.equal(r.classified.denominator, 400);
    assert.ok(Math.abs(r.classified.value - 0.5) < 0.1, `${r.classified.value}`);
    assert.ok(Math.abs(r.meanConfidence - (0.9 * r.classified.value + 0.4 * (1 - r.classified.value))) < 1e-5);
    // the top class is the one named for more of the noise: class 2 for the confident images, class 0 for the others
    const confident = r.classified.numerator;
    assert.notEqual(confident, 200, 'a tie would leave the top class undecided');
    assert.equal(r.topClass, confident > 200 ? 'two' : 'zero');
    assert.equal(r.topClassShare, Math.max(confident, 400 - confident) / 400);
    const strict = await measureRubbish(
      fakeOracle(),
      { name: 'fake', classNames: ['zero', 'one', 'two'] },
      { samples: 400, threshold: 0.95 },
      3,
      'h',
    );
    assert.equal(strict.classified.numerator, 0);
  });

  it('refuses an oracle that hides probabilities', async () => {
    await assert.rejects(
      measureRubbish(fakeOracle('label'), { name: 'fake', classNames: ['a', 'b', 'c'] }, { samples: 4 }, 0, 'h'),
      /need an oracle that reveals probabilities/,
    );
  });
});
