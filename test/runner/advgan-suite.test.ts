import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readResults, type CellResult } from '../../src/records/results.js';
import { cli, timeless, tinySuite } from './fixture-suite.js';

// Slow (a generator is trained): run by `npm run test:slow`, not by `npm test` (see .mocharc.slow.json).
describe('benchmark runner with a generative attack', function () {
  this.timeout(600000);
  let fixture: Awaited<ReturnType<typeof tinySuite>>;

  before(async () => {
    fixture = await tinySuite('advgan');
  });

  it('runs AdvGAN in a suite, caches its generator, and reproduces the cell from the cache', () => {
    const suite = {
      ...fixture.suite,
      name: 'tiny-advgan',
      substitutes: [
        { strategy: 'static-distillation', architectures: ['softmax'], budgets: [300], training: { epochs: 1 } },
      ],
      attacks: [{ name: 'advgan', eps: [0.2], params: { epochs: 1 } }],
      labelSources: ['true'],
    };
    const suitePath = join(fixture.dir, 'tiny-advgan.json');
    writeFileSync(suitePath, JSON.stringify(suite));
    const cache = join(fixture.dir, 'cache-advgan');
    const args = (out: string) => [
      'run',
      suitePath,
      '--out',
      join(fixture.dir, out),
      '--targets-dir',
      fixture.targetsDir,
      '--cache-dir',
      cache,
      '--quiet',
    ];
    const first = cli(args('advgan-1'), fixture.dir);
    assert.equal(first.status, 0, first.stderr);
    assert.ok(
      readdirSync(cache).some((d) => d.startsWith('advgan-static-distillation-')),
      'the generator was cached',
    );
    const second = cli(args('advgan-2'), fixture.dir);
    assert.equal(second.status, 0, second.stderr);
    const [a, b] = ['advgan-1', 'advgan-2'].map(
      (d) => readResults(join(fixture.dir, d, 'results-1-of-1.jsonl'))[0] as CellResult,
    );
    assert.deepEqual(timeless(a as CellResult), timeless(b as CellResult));
    assert.ok((a as CellResult).maxLinf <= 0.2 + 1e-6);
  });
});
