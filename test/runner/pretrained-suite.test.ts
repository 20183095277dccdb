import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../../src/compute/backend.js';
import { loadEmbeddedMnist, stratifiedSplit, take } from '../../src/data/index.js';
import { readResults } from '../../src/records/results.js';
import { buildTarget } from '../../src/targets/zoo.js';
import { tempDir } from '../fixtures/files.js';
import { TORCH_FIXTURES } from '../fixtures/torch-cases.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const SURROGATE = join(TORCH_FIXTURES, 'mnist-cnn', 'target.json');

describe('a suite crafting on a PyTorch-exported surrogate (strategy pretrained)', function () {
  this.timeout(300000);
  const dir = tempDir('transferbench-pretrained-suite-');

  before(async () => {
    await useBackend('wasm');
    const { train, test } = stratifiedSplit(loadEmbeddedMnist(), 0.2, 0);
    mkdirSync(join(dir, 'targets'), { recursive: true });
    await buildTarget(
      {
        name: 'tiny-softmax',
        architecture: 'softmax',
        epochs: 2,
        batchSize: 64,
        learningRate: 0.01,
        seed: 1,
        trainImages: 1000,
      },
      { train, test: take(test, 200) },
      'mnist-embedded',
      join(dir, 'targets'),
    );
  });

  it('attacks a zoo target and a PyTorch target from it, with no query spent and every cell recorded', () => {
    const suite = {
      name: 'pretrained-tiny',
      dataset: 'mnist-embedded',
      seed: 0,
      evaluationSize: 40,
      // A zoo target by name, and the surrogate's own export as a target by path.
      targets: ['tiny-softmax', SURROGATE],
      oracle: { mode: 'probabilities', workers: 1 },
      substitutes: [{ strategy: 'pretrained', budgets: [0], params: { model: SURROGATE } }],
      attacks: [
        { name: 'fgsm', eps: [0.3] },
        { name: 'pgd', eps: [0.2], params: { steps: 5 } },
      ],
      labelSources: ['true'],
      examples: 0,
    };
    const suitePath = join(dir, 'suite.json');
    writeFileSync(suitePath, JSON.stringify(suite));
    const out = join(dir, 'out');
    const run = spawnSync(
      process.execPath,
      [
        CLI,
        'run',
        suitePath,
        '--out',
        out,
        '--targets-dir',
        join(dir, 'targets'),
        '--cache-dir',
        join(dir, 'cache'),
        '--quiet',
      ],
      { cwd: dir, encoding: 'utf8', timeout: 240000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const results = readResults(join(out, 'results-1-of-1.jsonl'));
    assert.equal(results.length, 4);
    for (const r of results) {
      assert.equal(r.strategy, 'pretrained');
      assert.equal(r.architecture, 'mnist-cnn');
      assert.equal(r.substituteQueries, 0);
      assert.ok(
        r.substituteCleanAccuracy.value >= 0.9,
        `the trained surrogate knows digits: ${r.substituteCleanAccuracy.value}`,
      );
      assert.ok(
        r.whiteBoxSuccess.value >= 0.5,
        `${r.attack} fools the surrogate it was crafted on: ${r.whiteBoxSuccess.value}`,
      );
      assert.ok(r.maxLinf <= r.eps + 1e-6, `${r.attack} stays in the eps ball: ${r.maxLinf}`);
      if (r.target === 'mnist-cnn') {
        // The target is the surrogate's own export: what fools one fools the other.
        assert.equal(r.transferRate.numerator, r.transferRate.denominator, `${r.attack}: transfer to the same network`);
      }
    }
    const substitutes = readFileSync(join(out, 'leaderboard-substitutes.csv'), 'utf8');
    assert.match(substitutes, /pretrained,mnist-cnn,0,false/);
  });
});
