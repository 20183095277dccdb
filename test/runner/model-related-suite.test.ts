import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readResults } from '../../src/records/results.js';
import { cli, tinySuite } from './fixture-suite.js';

/**
 * SGM, LinBP and Ghost networks on trained substitutes through the CLI: every trained substitute is an ONNX network,
 * so each builds the variants; `architectures` keeps sgm off the network without skip connections.
 */
describe('model-related attacks in a suite', function () {
  this.timeout(600000);

  it('crafts sgm on resnet8 only, linbp on each network at its own layer, and ghost on both', async () => {
    const fixture = await tinySuite('model-related');
    const suite = {
      ...fixture.suite,
      evaluationSize: 20,
      substitutes: [
        {
          strategy: 'ground-truth',
          architectures: ['cnn-small', 'resnet8'],
          budgets: [0],
          params: { trainImages: 300 },
          training: { epochs: 1 },
        },
      ],
      attacks: [
        { name: 'mi-fgsm', eps: [0.1] },
        { name: 'sgm', eps: [0.1], architectures: ['resnet8'] },
        { name: 'linbp', eps: [0.1], params: { linbpLayer: 'net/Relu_14' }, architectures: ['cnn-small'] },
        { name: 'linbp', eps: [0.1], params: { linbpLayer: 'net/Relu_38' }, architectures: ['resnet8'] },
        { name: 'ghost', eps: [0.1] },
      ],
      labelSources: ['true'],
    };
    delete (suite as Record<string, unknown>).rubbish;
    const suitePath = join(fixture.dir, 'model-related.json');
    writeFileSync(suitePath, JSON.stringify(suite));
    const out = join(fixture.dir, 'out');
    const args = ['--out', out, '--targets-dir', fixture.targetsDir, '--cache-dir', join(fixture.dir, 'cache')];
    const run = cli(['run', suitePath, ...args, '--quiet'], fixture.dir);
    assert.equal(run.status, 0, run.stderr);
    const results = readResults(join(out, 'results-1-of-1.jsonl'));
    assert.deepEqual(results.map((r) => `${r.attack}@${r.architecture}`).sort(), [
      'ghost@cnn-small',
      'ghost@resnet8',
      'linbp(linbpLayer=net/Relu_14)@cnn-small',
      'linbp(linbpLayer=net/Relu_38)@resnet8',
      'mi-fgsm@cnn-small',
      'mi-fgsm@resnet8',
      'sgm@resnet8',
    ]);
    for (const r of results) assert.ok(r.maxLinf <= 0.1 + 1e-6 && r.meanLinf > 0, `${r.attack}: linf ${r.maxLinf}`);
  });
});
