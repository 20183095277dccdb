import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { readResults } from '../../src/records/results.js';
import { cli, tinySuite } from './fixture-suite.js';

/**
 * The transfer protocol end to end on the tiny zoo target: a targeted cell beside an untargeted one, against the
 * plain target and the same model behind a defence, through the CLI.
 */
describe('transfer protocol cells', function () {
  this.timeout(600000);

  it('runs targeted and untargeted cells against plain and defended targets, recording what each needs', async () => {
    const fixture = await tinySuite('protocol');
    const plainDir = join(fixture.targetsDir, 'tiny-softmax');
    const defendedDir = join(fixture.targetsDir, 'tiny-softmax-smoothed');
    cpSync(plainDir, defendedDir, { recursive: true });
    const descriptor = JSON.parse(readFileSync(join(plainDir, 'target.json'), 'utf8'));
    writeFileSync(
      join(defendedDir, 'target.json'),
      JSON.stringify({
        ...descriptor,
        name: 'tiny-softmax-smoothed',
        defence: { name: 'smoothing', params: { sigma: 0.25, samples: 8 }, seed: 3 },
      }),
    );
    const suite = {
      ...fixture.suite,
      evaluationSize: 20,
      targets: ['tiny-softmax', 'tiny-softmax-smoothed'],
      substitutes: [
        { strategy: 'white-box', architectures: ['softmax'], budgets: [0] },
        {
          strategy: 'ground-truth',
          architectures: ['softmax'],
          budgets: [0],
          params: { trainImages: 600 },
          training: { epochs: 1 },
        },
      ],
      attacks: [
        { name: 'fgsm', eps: [0.25] },
        { name: 'mi-fgsm', eps: [0.3], targetClass: 'random', params: { steps: 10, loss: 'logit' } },
      ],
      labelSources: ['true'],
    };
    delete (suite as Record<string, unknown>).rubbish;
    const suitePath = join(fixture.dir, 'protocol.json');
    writeFileSync(suitePath, JSON.stringify(suite));
    const out = join(fixture.dir, 'out');
    const run = cli(
      [
        'run',
        suitePath,
        '--out',
        out,
        '--targets-dir',
        fixture.targetsDir,
        '--cache-dir',
        join(fixture.dir, 'cache'),
        '--quiet',
      ],
      fixture.dir,
    );
    assert.equal(run.status, 0, run.stderr);
    const results = readResults(join(out, 'results-1-of-1.jsonl'));
    assert.equal(results.length, 8);
    for (const r of results) {
      assert.ok(r.meanSsim !== undefined && r.meanSsim > 0 && r.meanSsim < 1, `ssim ${r.meanSsim}`);
      assert.ok(r.meanPsnr !== undefined && r.meanPsnr > 0 && r.meanPsnr < 100, `psnr ${r.meanPsnr}`);
      const defended = r.target === 'tiny-softmax-smoothed';
      assert.equal(r.targetDefence, defended ? 'smoothing' : undefined);
      assert.equal(r.defencePassesPerQuery, defended ? 8 : undefined);
      if (r.attack.startsWith('mi-fgsm')) {
        assert.equal(r.targetClass, 'random');
        const success = r.targetedSuccess;
        assert.ok(success !== undefined);
        assert.equal(success.denominator, r.attackSuccess?.denominator);
        // On the white-box target itself, the logit loss with 10 steps of 0.03 lands most images on their target.
        if (!defended && r.reference) assert.ok(success.value > 0.5, `targeted success ${success.value}`);
      } else {
        assert.equal(r.targetClass, undefined);
        assert.equal(r.targetedSuccess, undefined);
      }
    }
    const attacks: Record<string, string>[] = parse(readFileSync(join(out, 'leaderboard-attacks.csv'), 'utf8'), {
      columns: true,
    });
    const row = attacks.find((a) => a.attack?.startsWith('mi-fgsm'));
    assert.equal(row?.target_class, 'random');
    assert.notEqual(row?.pooled_targeted_success, '');
    const csv = readFileSync(join(out, 'results.csv'), 'utf8');
    assert.ok(csv.split('\n')[0]?.includes('targeted_success_ci_low,targeted_success_ci_high,mean_psnr,mean_ssim'));
  });
});
